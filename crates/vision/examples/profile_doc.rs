use trustcap_vision::*;
fn main() {
    let s = synth::card_scene(1280, 720, 50, DocumentFormat::Id1, false);
    let f = Frame::packed(&s.rgba, 1280, 720).unwrap();
    let mut a = document::DocumentAnalyzer::new();
    for _ in 0..30 {
        std::hint::black_box(a.analyze(&f));
    }
}
