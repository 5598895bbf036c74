//! Property tests of the name matcher: normalisation is idempotent, scores are symmetric,
//! and word order does not change a score.

use proptest::prelude::*;
use trustcap_screening::normalize::normalize;
use trustcap_screening::{EntityKind, compare_names};

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{2,9}",
        Just("al".to_string()),
        Just("bin".to_string()),
        Just("mohammed".to_string()),
        Just("muhammad".to_string()),
        Just("ltd".to_string()),
        Just("müller".to_string()),
        Just("владимир".to_string()),
        Just("j".to_string()),
    ]
}

fn name() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(word(), 1..6)
}

fn kind() -> impl Strategy<Value = EntityKind> {
    prop_oneof![Just(EntityKind::Person), Just(EntityKind::Organization), Just(EntityKind::Unknown)]
}

proptest! {
    #[test]
    fn normalisation_is_idempotent(s in "\\PC{0,60}") {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn scores_are_symmetric(a in name(), b in name(), k in kind()) {
        let (a, b) = (a.join(" "), b.join(" "));
        let ab = compare_names(&a, &b, k).score;
        let ba = compare_names(&b, &a, k).score;
        prop_assert!((ab - ba).abs() < 1e-5, "{a} / {b}: {ab} vs {ba}");
    }

    #[test]
    fn word_order_does_not_change_the_score(a in name(), b in name(), k in kind(), seed in any::<u64>()) {
        let mut shuffled = a.clone();
        // A deterministic permutation from the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(i as u64 + 7) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let original = compare_names(&a.join(" "), &b.join(" "), k).score;
        let permuted = compare_names(&shuffled.join(" "), &b.join(" "), k).score;
        prop_assert!((original - permuted).abs() < 1e-5, "{a:?} vs {shuffled:?} against {b:?}: {original} vs {permuted}");
    }

    #[test]
    fn a_name_matches_itself(a in name(), k in kind()) {
        let a = a.join(" ");
        prop_assert!(compare_names(&a, &a, k).score >= 0.98);
    }
}
