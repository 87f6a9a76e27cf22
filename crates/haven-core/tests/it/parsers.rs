use haven_core::casework::{FollowUpKind, PlanArea, RiskLevel, ServiceKind};
use haven_core::survivor::{
    normalise_name, normalise_phone, parse_languages, FieldClass, Reference, SurvivorField,
};
use haven_core::{DisplayName, Locale, OrgName, Role, Roles, Username};
use proptest::prelude::*;

/// Any text, weighted towards what people actually type: Khmer, Vietnamese with and without
/// precomposed marks, spaces, separators and control characters.
fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \\t\\n\\r,;+\\-=@()0-9a-zA-Z\u{1780}-\u{17ff}\u{00c0}-\u{1ef9}\u{0300}-\u{0323}]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_answer_any_input(input in typed()) {
        let _ = Username::parse(&input);
        let _ = DisplayName::parse(&input);
        let _ = OrgName::parse(&input);
        let _ = Reference::parse(&input);
        let _ = Role::parse(&input);
        let _ = Roles::parse_list(&input);
        let _ = FieldClass::parse_list(&input);
        let _ = SurvivorField::parse(&input);
        let _ = Locale::parse(&input);
        let _ = Locale::from_accept_language(&input);
        let _ = parse_languages("languages", &input);
        let _ = PlanArea::parse(&input);
        let _ = ServiceKind::parse(&input);
        let _ = FollowUpKind::parse(&input);
        let _ = RiskLevel::parse(&input);
        let _ = normalise_name(&input);
        let _ = normalise_phone(&input);
    }

    #[test]
    fn an_accepted_username_reads_back_as_itself(input in typed()) {
        if let Ok(name) = Username::parse(&input) {
            prop_assert_eq!(Username::parse(name.as_str()).ok(), Some(name));
        }
    }

    #[test]
    fn a_reference_is_upper_case_letters_digits_and_dashes(input in typed()) {
        if let Ok(reference) = Reference::parse(&input) {
            let text = reference.as_str();
            prop_assert!((2..=40).contains(&text.len()));
            prop_assert!(text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'));
            prop_assert_eq!(Reference::parse(&text.to_lowercase()).ok(), Some(reference.clone()));
        }
    }

    #[test]
    fn every_role_list_reads_back(roles in proptest::sample::subsequence(Role::ALL.to_vec(), 1..=Role::ALL.len())) {
        let text = roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
        let parsed = Roles::parse_list(&text);
        prop_assert!(parsed.is_ok(), "{text}");
        if let Ok(parsed) = parsed {
            for role in roles {
                prop_assert!(parsed.contains(role));
            }
        }
    }

    #[test]
    fn language_lists_are_lower_case_codes_without_duplicates(input in typed()) {
        if let Ok(codes) = parse_languages("languages", &input) {
            let mut seen = std::collections::BTreeSet::new();
            for code in &codes {
                prop_assert!((2..=3).contains(&code.len()));
                prop_assert!(code.chars().all(|c| c.is_ascii_lowercase()));
                prop_assert!(seen.insert(code.clone()), "{code} twice");
            }
        }
    }

    /// The blind index of a name is computed on this form: typing it again with other spacing,
    /// other case or another Unicode composition must land on the same value, or she is not
    /// found.
    #[test]
    fn a_normalised_name_is_stable(input in typed()) {
        let once = normalise_name(&input);
        prop_assert_eq!(normalise_name(&once), once.clone());
        prop_assert_eq!(normalise_name(&format!("  {}  ", input.to_uppercase())), normalise_name(&input.to_uppercase()));
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }

    #[test]
    fn a_normalised_phone_is_e164(input in typed()) {
        if let Some(phone) = normalise_phone(&input) {
            prop_assert!(phone.starts_with('+'));
            prop_assert!(phone[1..].chars().all(|c| c.is_ascii_digit()));
            prop_assert!(phone.len() <= 16, "{phone}");
            prop_assert_eq!(normalise_phone(&phone), Some(phone.clone()));
        }
    }
}

#[test]
fn a_name_typed_with_combining_marks_is_the_same_name() {
    // "Nguyễn Thị Hoa" with precomposed letters, and with the marks typed separately (as some
    // phone keyboards and spreadsheets do).
    let precomposed = "Nguy\u{1ec5}n Th\u{1ecb} Hoa";
    let combining = "Nguye\u{302}\u{303}n Thi\u{323} Hoa";
    assert_ne!(precomposed, combining);
    assert_eq!(normalise_name(precomposed), normalise_name(combining));
    assert_eq!(
        normalise_name("NGUYỄN  thị hoa"),
        normalise_name(precomposed)
    );
}

#[test]
fn cambodian_and_vietnamese_numbers_normalise_alike() {
    for typed in [
        "012 345 678",
        "+855 12 345 678",
        "00855-12-345-678",
        "(+855) 12345678",
    ] {
        assert_eq!(
            normalise_phone(typed).as_deref(),
            Some("+85512345678"),
            "{typed}"
        );
    }
    assert_eq!(
        normalise_phone("+84 912 345 678").as_deref(),
        Some("+84912345678")
    );
    assert_eq!(normalise_phone("hello"), None);
}
