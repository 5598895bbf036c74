//! Helpers shared by the integration tests: a deterministic generator and fake networks.
#![allow(dead_code)]

use trustcap_face::dlib::model::{Conv, Fc, Layer, Pool};

/// xorshift64*: deterministic pseudo-random values for weights and inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((v >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    pub fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next_f32() * scale).collect()
    }
}

pub fn conv(rng: &mut Rng, in_channels: usize, out_channels: usize, k: usize, stride: usize, pad: usize) -> Conv {
    let fan_in = (in_channels * k * k) as f32;
    Conv {
        out_channels,
        in_channels,
        kernel: [k, k],
        stride: [stride, stride],
        padding: [pad, pad],
        weights: rng.vec(out_channels * in_channels * k * k, 1.5 / fan_in.sqrt()),
        bias: rng.vec(out_channels, 0.1),
    }
}

pub fn affine(rng: &mut Rng, c: usize) -> Layer {
    Layer::Affine { gamma: rng.vec(c, 0.3).iter().map(|g| 1.0 + g).collect(), beta: rng.vec(c, 0.1) }
}

pub fn pool(window: usize, stride: usize) -> Pool {
    Pool { window: [window, window], stride: [stride, stride], padding: [0, 0] }
}

pub fn fc(rng: &mut Rng, inputs: usize, outputs: usize, bias: bool) -> Fc {
    Fc {
        inputs,
        outputs,
        weights: rng.vec(inputs * outputs, 1.0 / (inputs as f32).sqrt()),
        bias: bias.then(|| rng.vec(outputs, 0.1)),
    }
}

/// The layers of the dlib face ResNet in execution order with random weights, and the file's
/// wrapper prefix (outermost first, without the innermost layer).
pub fn fake_dlib_resnet(rng: &mut Rng) -> (Vec<Layer>, Vec<trustcap_face::dlib::model::Wrapper>) {
    use trustcap_face::dlib::model::Wrapper;
    let mut layers =
        vec![Layer::Conv(conv(rng, 3, 32, 7, 2, 0)), affine(rng, 32), Layer::Relu, Layer::MaxPool(pool(3, 2))];
    let mut wrappers = vec![Wrapper::Layer; 3];
    let mut channels = 32;
    for (filters, down, plain) in trustcap_face::architecture::STAGES {
        let blocks = std::iter::once(true).filter(|_| down).chain(std::iter::repeat_n(false, plain));
        for is_down in blocks {
            wrappers.push(Wrapper::TagOrSkip);
            let (stride, pad) = if is_down { (2, 0) } else { (1, 1) };
            layers.push(Layer::Conv(conv(rng, channels, filters, 3, stride, pad)));
            layers.push(affine(rng, filters));
            layers.push(Layer::Relu);
            layers.push(Layer::Conv(conv(rng, filters, filters, 3, 1, 1)));
            layers.push(affine(rng, filters));
            wrappers.extend([Wrapper::Layer; 5]);
            if is_down {
                wrappers.extend([Wrapper::TagOrSkip, Wrapper::TagOrSkip]);
                layers.push(Layer::AvgPool(pool(2, 2)));
                wrappers.push(Wrapper::Layer);
            }
            layers.push(Layer::AddPrev);
            layers.push(Layer::Relu);
            wrappers.extend([Wrapper::Layer; 2]);
            channels = filters;
        }
    }
    layers.push(Layer::AvgPool(Pool { window: [0, 0], stride: [1, 1], padding: [0, 0] }));
    layers.push(Layer::Fc(fc(rng, 256, 128, false)));
    wrappers.extend([Wrapper::Layer; 2]);
    wrappers.reverse();
    (layers, wrappers)
}
