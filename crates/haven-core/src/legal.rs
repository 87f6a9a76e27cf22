//! Legal casework: the stages of a prosecution and the rules between them, the charges of the
//! Cambodian Law on Suppression of Human Trafficking and Sexual Exploitation (2008), the
//! survivor's informed choice to take part, who may work a case, the no-contact safeguard at
//! court, statutory deadlines and the "what is missing" list of a case file.
//!
//! Everything here is pure: dates and "now" come in as parameters.

use crate::{Role, Roles, ValidationError};
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Declares a closed set of snake_case names with `ALL`, `as_str` and `parse`.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(input: &str) -> Result<$name, ValidationError> {
                let wanted = input.trim();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    ValidationError::new(
                        $field,
                        format!(
                            "'{}' is not accepted; choose one of: {}",
                            wanted,
                            $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    )
                })
            }
        }
    };
}

named_enum!(
    /// The stages of a prosecution, in their usual order.
    Stage, "stage", {
        Complaint => "complaint",
        Investigation => "investigation",
        Arrest => "arrest",
        Charge => "charge",
        PreTrialDetention => "pre_trial_detention",
        TrialHearings => "trial_hearings",
        Verdict => "verdict",
        Sentence => "sentence",
        Appeal => "appeal",
        Closed => "closed",
    }
);

impl Stage {
    /// The stages that must already be recorded (on or before the same date) before this one.
    pub const fn requires(self) -> &'static [Stage] {
        match self {
            Stage::Complaint | Stage::Closed => &[],
            Stage::Investigation | Stage::Arrest | Stage::Charge => &[Stage::Complaint],
            Stage::PreTrialDetention => &[Stage::Arrest],
            Stage::TrialHearings => &[Stage::Charge],
            Stage::Verdict => &[Stage::TrialHearings],
            Stage::Sentence | Stage::Appeal => &[Stage::Verdict],
        }
    }

    /// The Fluent key of the stage's name.
    pub fn label_key(self) -> String {
        format!("legal-stage-{}", self.as_str().replace('_', "-"))
    }
}

/// Why a stage may not be recorded on a date, for a message in any language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageRefusal {
    /// The case is closed.
    Closed,
    /// A stage it depends on was never recorded (a verdict before a trial).
    Needs { needed: Stage },
    /// It is dated before the stage it depends on.
    Before { needed: Stage, date: NaiveDate },
}

/// Whether `stage` may be recorded on `on`, given the stages already recorded.
pub fn stage_refusal(
    recorded: &[(Stage, NaiveDate)],
    stage: Stage,
    on: NaiveDate,
) -> Option<StageRefusal> {
    if recorded.iter().any(|(s, _)| *s == Stage::Closed) {
        return Some(StageRefusal::Closed);
    }
    for needed in stage.requires() {
        let earliest = recorded
            .iter()
            .filter(|(s, _)| s == needed)
            .map(|(_, d)| *d)
            .min();
        match earliest {
            None => return Some(StageRefusal::Needs { needed: *needed }),
            Some(date) if date > on => {
                return Some(StageRefusal::Before {
                    needed: *needed,
                    date,
                })
            }
            Some(_) => {}
        }
    }
    None
}

/// Checks that `stage` may be recorded on `on`, given the stages already recorded. A verdict
/// before a trial, or a stage dated before the one it depends on, is refused with the reason.
pub fn check_stage(
    recorded: &[(Stage, NaiveDate)],
    stage: Stage,
    on: NaiveDate,
) -> Result<(), ValidationError> {
    let name = |s: Stage| s.as_str().replace('_', " ");
    match stage_refusal(recorded, stage, on) {
        None => Ok(()),
        Some(StageRefusal::Closed) => Err(ValidationError::new(
            "stage",
            "this case is closed; no further stage can be recorded",
        )),
        Some(StageRefusal::Needs { needed }) => Err(ValidationError::new(
            "stage",
            format!(
                "a {} cannot be recorded before the {} stage",
                name(stage),
                name(needed)
            ),
        )),
        Some(StageRefusal::Before { needed, date }) => Err(ValidationError::new(
            "date",
            format!(
                "the {} is dated {on}, before the {} on {date}",
                name(stage),
                name(needed)
            ),
        )),
    }
}

/// An article of the Law on Suppression of Human Trafficking and Sexual Exploitation (2008).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Article {
    pub code: &'static str,
    pub title: &'static str,
}

/// The articles most often charged in the organisation's cases. Only offences: Article 8
/// (what "unlawful removal" means) and Article 23 (what child prostitution means) define
/// terms and are not charged on their own.
pub const ARTICLES: [Article; 10] = [
    Article {
        code: "art-9",
        title: "Unlawful removal, inter alia, of a minor",
    },
    Article {
        code: "art-10",
        title: "Unlawful removal with purpose",
    },
    Article {
        code: "art-15",
        title: "Selling, buying or exchanging a person with purpose",
    },
    Article {
        code: "art-25",
        title: "Procurement of prostitution",
    },
    Article {
        code: "art-30",
        title: "Management of an establishment for prostitution",
    },
    Article {
        code: "art-32",
        title: "Provision of premises for prostitution",
    },
    Article {
        code: "art-34",
        title: "Purchase of child prostitution",
    },
    Article {
        code: "art-35",
        title: "Soliciting or advertising child prostitution as an intermediary",
    },
    Article {
        code: "art-42",
        title: "Sexual intercourse with a minor under 15",
    },
    Article {
        code: "art-43",
        title: "Indecency against a minor under 15",
    },
];

/// Finds an article by its code (`art-15`).
pub fn article(code: &str) -> Result<Article, ValidationError> {
    let wanted = code.trim().to_ascii_lowercase();
    ARTICLES
        .iter()
        .copied()
        .find(|a| a.code == wanted)
        .ok_or_else(|| {
            ValidationError::new(
                "article",
                format!(
                    "'{}' is not an article Haven knows; choose one of: {}",
                    code.trim(),
                    ARTICLES.map(|a| a.code).join(", ")
                ),
            )
        })
}

named_enum!(
    /// The part a survivor plays in a case.
    Capacity, "capacity", { Complainant => "complainant", Witness => "witness" }
);

named_enum!(
    /// A suspect's role in the crime (HTCDS perpetrator roles).
    SuspectRole, "role", {
        RecruiterOrIntermediary => "recruiter_or_intermediary",
        Transporter => "transporter",
        Exploiter => "exploiter",
        Abuser => "abuser",
        Buyer => "buyer",
        Other => "other",
    }
);

named_enum!(
    /// Her decision about taking part in the case.
    Participation, "decision", {
        /// She takes part (as complainant or witness).
        TakesPart => "takes_part",
        /// She has not decided yet.
        Undecided => "undecided",
        /// She chose not to take part, or withdrew: never contact her about the case again.
        Withdrawn => "withdrawn",
    }
);

/// An informed decision as recorded: what was explained, by whom, in which language, and with
/// a guardian present when she is a minor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformedDecision {
    pub decision: Participation,
    /// The staff member who explained the case and her choices.
    pub explained_by: String,
    /// The language it was explained in (ISO 639-1, e.g. `km`, `vi`).
    pub language: String,
    /// What was explained.
    pub explained: String,
    /// The guardian present, for a minor.
    pub guardian: Option<String>,
}

/// Checks a decision before it is recorded. `minor` is whether she is under 18 today.
pub fn check_decision(
    d: &InformedDecision,
    minor: bool,
) -> Result<InformedDecision, ValidationError> {
    let text = |field: &'static str, value: &str, min: usize, max: usize| {
        let value = value.trim();
        let n = value.chars().count();
        if n < min {
            return Err(ValidationError::new(field, "must be filled in"));
        }
        if n > max {
            return Err(ValidationError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if value.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ValidationError::new(
                field,
                "cannot contain control characters",
            ));
        }
        Ok(value.to_owned())
    };
    let language = d.language.trim().to_ascii_lowercase();
    if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(ValidationError::new(
            "language",
            "give the language as a two-letter code, such as km, vi or en",
        ));
    }
    let guardian = match d.guardian.as_deref().map(str::trim) {
        Some(g) if !g.is_empty() => Some(text("guardian", g, 1, 200)?),
        _ => None,
    };
    if minor && guardian.is_none() {
        return Err(ValidationError::new(
            "guardian",
            "she is a minor: name the guardian who was present when her choice was explained",
        ));
    }
    Ok(InformedDecision {
        decision: d.decision,
        explained_by: text("explained_by", &d.explained_by, 1, 200)?,
        language,
        explained: text("explained", &d.explained, 10, 5000)?,
        guardian,
    })
}

/// Whether she is under 18 on `today`, from her date of birth.
pub fn is_minor(date_of_birth: NaiveDate, today: NaiveDate) -> bool {
    date_of_birth
        .checked_add_months(Months::new(18 * 12))
        .is_some_and(|adult| today < adult)
}

/// What a user may do with legal cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAccess {
    /// Works cases: reads and writes everything the survivors' consent allows.
    Full,
    /// Investigators: suspects, stages, hearings and evidence, never survivors' statements
    /// or decisions; may add evidence and hand it on.
    Evidence,
    /// Aftercare: only the hearings of survivors assigned to them.
    Hearings,
    /// Nothing (partners, administrators, auditors).
    None,
}

impl CaseAccess {
    /// Partner staff never reach legal cases, whatever else they hold.
    pub fn of(roles: &Roles, own_org: bool) -> CaseAccess {
        if !own_org {
            return CaseAccess::None;
        }
        if roles.contains(Role::Legal) || roles.contains(Role::Manager) {
            CaseAccess::Full
        } else if roles.contains(Role::Investigator) {
            CaseAccess::Evidence
        } else if roles.contains(Role::Aftercare) {
            CaseAccess::Hearings
        } else {
            CaseAccess::None
        }
    }

    pub const fn sees_case(self) -> bool {
        matches!(self, CaseAccess::Full | CaseAccess::Evidence)
    }

    pub const fn handles_evidence(self) -> bool {
        self.sees_case()
    }

    pub const fn works_case(self) -> bool {
        matches!(self, CaseAccess::Full)
    }
}

/// A hearing's place and time, as the no-contact safeguard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance<P> {
    /// Who: a survivor or an accused, identified by the caller.
    pub person: P,
    /// The hearing it belongs to.
    pub hearing: uuid::Uuid,
    pub court: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// For a survivor: a waiting room apart from the accused is arranged.
    pub separated: bool,
}

/// A survivor and an accused expected in the same court at the same time, with no separate
/// waiting room arranged for her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoContactWarning<S, A> {
    pub survivor: S,
    pub accused: A,
    pub survivor_hearing: uuid::Uuid,
    pub accused_hearing: uuid::Uuid,
    pub court: String,
}

/// The no-contact safeguard: she must never have to see or hear the people who exploited
/// her. Warns for every survivor without a separate waiting room who is expected at a court
/// (same building, courts compared without case or spacing) while an accused is there.
pub fn no_contact_warnings<S: Clone, A: Clone>(
    survivors: &[Attendance<S>],
    accused: &[Attendance<A>],
) -> Vec<NoContactWarning<S, A>> {
    // Courts compared without case or spacing, each normalised once.
    let norm = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let accused_courts: Vec<String> = accused.iter().map(|a| norm(&a.court)).collect();
    let mut out = Vec::new();
    for s in survivors.iter().filter(|s| !s.separated) {
        let court = norm(&s.court);
        for (a, a_court) in accused.iter().zip(&accused_courts) {
            let overlap = s.starts_at < a.ends_at && a.starts_at < s.ends_at;
            if overlap && *a_court == court {
                out.push(NoContactWarning {
                    survivor: s.person.clone(),
                    accused: a.person.clone(),
                    survivor_hearing: s.hearing,
                    accused_hearing: a.hearing,
                    court: s.court.clone(),
                });
            }
        }
    }
    out
}

/// A deadline computed from the law, or set by the court.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// A stable key: `statutory-custody`, `statutory-appeal`, or `court`.
    pub kind: &'static str,
    pub title: String,
    pub due: DateTime<Utc>,
}

/// Statutory deadlines that follow from the recorded stages (Code of Criminal Procedure):
/// police custody of 48 hours after an arrest, a review of pre-trial detention within six
/// months (felonies), and one month to appeal a verdict. A deadline whose next stage is
/// already recorded is met and no longer listed. Court-set deadlines are stored per case.
pub fn statutory_deadlines(recorded: &[(Stage, NaiveDate)]) -> Vec<Deadline> {
    let has = |s: Stage| recorded.iter().any(|(r, _)| *r == s);
    let latest = |s: Stage| {
        recorded
            .iter()
            .filter(|(r, _)| *r == s)
            .map(|(_, d)| *d)
            .max()
    };
    let at = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let mut out = Vec::new();
    if !has(Stage::Closed) {
        if let Some(arrest) = latest(Stage::Arrest).and_then(at) {
            if !has(Stage::Charge) && !has(Stage::PreTrialDetention) {
                out.push(Deadline {
                    kind: "statutory-custody",
                    title: "Police custody ends: bring the suspect before the prosecutor"
                        .to_owned(),
                    due: arrest + Duration::hours(48),
                });
            }
        }
        if let Some(detention) = latest(Stage::PreTrialDetention) {
            if !has(Stage::Verdict) {
                if let Some(due) = detention.checked_add_months(Months::new(6)).and_then(at) {
                    out.push(Deadline {
                        kind: "statutory-detention",
                        title: "Pre-trial detention must be reviewed or extended".to_owned(),
                        due,
                    });
                }
            }
        }
        if let Some(verdict) = latest(Stage::Verdict) {
            if !has(Stage::Appeal) {
                if let Some(due) = verdict.checked_add_months(Months::new(1)).and_then(at) {
                    out.push(Deadline {
                        kind: "statutory-appeal",
                        title: "Last day to appeal the verdict".to_owned(),
                        due,
                    });
                }
            }
        }
    }
    out
}

/// Deadlines and hearings due between `now` and `now + window`: the reminders shown.
pub fn upcoming(due: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> bool {
    due >= now && due <= now + window
}

/// What the "what is missing" rule looks at, per survivor in the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurvivorFile {
    pub reference: String,
    pub takes_part: bool,
    /// Known to be a minor (from her date of birth, when the user may read it).
    pub minor: bool,
    pub has_medical_report: bool,
    pub has_age_evidence: bool,
    /// Statements on file, and whether each is signed.
    pub statements_signed: Vec<bool>,
    /// Hearings after now without an accompaniment plan for her.
    pub hearings_without_plan: usize,
}

/// What is missing from a case file, as keys with an optional subject (her reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub key: &'static str,
    pub subject: Option<String>,
}

/// The "what is missing" list: a lawyer's checklist before each stage.
pub fn missing(
    survivors: &[SurvivorFile],
    charges: usize,
    suspects: usize,
    recorded: &[(Stage, NaiveDate)],
) -> Vec<Missing> {
    let mut out = Vec::new();
    let has = |s: Stage| recorded.iter().any(|(r, _)| *r == s);
    if suspects == 0 {
        out.push(Missing {
            key: "no-suspect",
            subject: None,
        });
    }
    if has(Stage::Charge) && charges == 0 {
        out.push(Missing {
            key: "no-charge",
            subject: None,
        });
    }
    if survivors.is_empty() {
        out.push(Missing {
            key: "no-survivor",
            subject: None,
        });
    }
    for s in survivors.iter().filter(|s| s.takes_part) {
        let subject = Some(s.reference.clone());
        if !s.has_medical_report {
            out.push(Missing {
                key: "no-medical-report",
                subject: subject.clone(),
            });
        }
        if s.minor && !s.has_age_evidence {
            out.push(Missing {
                key: "no-age-evidence",
                subject: subject.clone(),
            });
        }
        if s.statements_signed.is_empty() {
            out.push(Missing {
                key: "no-statement",
                subject: subject.clone(),
            });
        } else if s.statements_signed.iter().any(|signed| !signed) {
            out.push(Missing {
                key: "unsigned-statement",
                subject: subject.clone(),
            });
        }
        if s.hearings_without_plan > 0 {
            out.push(Missing {
                key: "no-accompaniment-plan",
                subject,
            });
        }
    }
    out
}

/// One judgment against one accused, for the organisation's indicators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgment {
    pub convicted: bool,
    pub sentence_months: Option<i64>,
    pub compensation_ordered: i64,
    pub compensation_paid: i64,
    /// Days from the complaint to the verdict, when both are recorded.
    pub days_to_verdict: Option<i64>,
}

/// Aggregate outcomes across cases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeFigures {
    pub convictions: u64,
    pub acquittals: u64,
    pub sentence_months_total: i64,
    pub compensation_ordered: i64,
    pub compensation_paid: i64,
    /// Median days from complaint to verdict, over judgments where both are known.
    pub median_days_to_verdict: Option<i64>,
}

pub fn outcome_figures(judgments: &[Judgment]) -> OutcomeFigures {
    let mut f = OutcomeFigures::default();
    let mut days = Vec::new();
    for j in judgments {
        if j.convicted {
            f.convictions += 1;
        } else {
            f.acquittals += 1;
        }
        f.sentence_months_total += j.sentence_months.unwrap_or(0);
        f.compensation_ordered += j.compensation_ordered;
        f.compensation_paid += j.compensation_paid;
        days.extend(j.days_to_verdict);
    }
    days.sort_unstable();
    f.median_days_to_verdict = match days.len() {
        0 => None,
        n if n % 2 == 1 => days.get(n / 2).copied(),
        n => match (days.get(n / 2 - 1), days.get(n / 2)) {
            (Some(a), Some(b)) => Some((a + b) / 2),
            _ => None,
        },
    };
    f
}

/// A short free-text value (names, places, titles): trimmed, 1 to `max` characters, no
/// control characters.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "must be filled in"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "cannot contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Checks an uploaded file's name: a plain name, never a path.
pub fn file_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    let bad = name.is_empty()
        || name.chars().count() > 200
        || name == "."
        || name.contains("..")
        || name.contains(['/', '\\', ':'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(ValidationError::new(
            "file",
            "the file name must be a plain name such as photo.jpg, not a path",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn stage_order_table() {
        use Stage::*;
        let history = |xs: &[(Stage, &str)]| -> Vec<(Stage, NaiveDate)> {
            xs.iter().map(|(s, t)| (*s, d(t))).collect()
        };
        let full = history(&[
            (Complaint, "2026-01-05"),
            (Arrest, "2026-01-10"),
            (Charge, "2026-01-12"),
            (TrialHearings, "2026-05-01"),
        ]);
        // (recorded, new stage, its date, accepted?)
        let table: Vec<(Vec<(Stage, NaiveDate)>, Stage, &str, bool)> = vec![
            (vec![], Complaint, "2026-01-01", true),
            (vec![], Verdict, "2026-01-01", false),
            (vec![], Arrest, "2026-01-01", false),
            (
                history(&[(Complaint, "2026-01-05")]),
                Arrest,
                "2026-01-04",
                false,
            ),
            (
                history(&[(Complaint, "2026-01-05")]),
                Arrest,
                "2026-01-05",
                true,
            ),
            (
                history(&[(Complaint, "2026-01-05")]),
                TrialHearings,
                "2026-03-01",
                false,
            ),
            (
                history(&[(Complaint, "2026-01-05")]),
                PreTrialDetention,
                "2026-03-01",
                false,
            ),
            (full.clone(), Verdict, "2026-05-02", true),
            (full.clone(), Verdict, "2026-04-30", false),
            (full.clone(), Sentence, "2026-05-02", false),
            (full.clone(), Appeal, "2026-05-02", false),
            (full.clone(), Closed, "2026-05-02", true),
            (
                history(&[(Closed, "2026-01-05")]),
                Complaint,
                "2026-02-01",
                false,
            ),
        ];
        for (recorded, stage, on, ok) in table {
            assert_eq!(
                check_stage(&recorded, stage, d(on)).is_ok(),
                ok,
                "{stage:?} on {on} after {recorded:?}"
            );
        }
        let err = check_stage(&[], Verdict, d("2026-01-01")).unwrap_err();
        assert_eq!(
            err.message,
            "a verdict cannot be recorded before the trial hearings stage"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()).unwrap(), *s);
        }
        assert!(Stage::parse("sentencing")
            .unwrap_err()
            .message
            .contains("pre_trial_detention"));
        assert_eq!(
            Stage::PreTrialDetention.label_key(),
            "legal-stage-pre-trial-detention"
        );
        assert_eq!(article("ART-15").unwrap().code, "art-15");
        assert!(article("art-99").is_err());
        // Definitions are not charges.
        assert!(article("art-8").is_err());
        assert!(article("art-23").is_err());
    }

    #[test]
    fn a_minor_needs_a_guardian() {
        let decision = InformedDecision {
            decision: Participation::TakesPart,
            explained_by: "Dara Sok".into(),
            language: "VI".into(),
            explained: "What a trial is, that she may stop at any time.".into(),
            guardian: None,
        };
        assert_eq!(
            check_decision(&decision, true).unwrap_err().field,
            "guardian"
        );
        let ok = check_decision(&decision, false).unwrap();
        assert_eq!(ok.language, "vi");
        let bad = InformedDecision {
            language: "Vietnamese".into(),
            ..decision.clone()
        };
        assert_eq!(check_decision(&bad, false).unwrap_err().field, "language");
        assert!(is_minor(d("2012-05-03"), d("2026-03-01")));
        assert!(!is_minor(d("2008-03-01"), d("2026-03-01")));
    }

    #[test]
    fn who_works_cases() {
        let r = |s: &str| Roles::parse_list(s).unwrap();
        assert_eq!(CaseAccess::of(&r("legal"), true), CaseAccess::Full);
        assert_eq!(CaseAccess::of(&r("manager"), true), CaseAccess::Full);
        assert_eq!(
            CaseAccess::of(&r("investigator"), true),
            CaseAccess::Evidence
        );
        assert_eq!(CaseAccess::of(&r("aftercare"), true), CaseAccess::Hearings);
        assert_eq!(CaseAccess::of(&r("admin"), true), CaseAccess::None);
        assert_eq!(CaseAccess::of(&r("auditor"), true), CaseAccess::None);
        assert_eq!(CaseAccess::of(&r("legal"), false), CaseAccess::None);
        assert_eq!(CaseAccess::of(&r("partner"), false), CaseAccess::None);
    }

    fn at(h: u32) -> DateTime<Utc> {
        d("2026-06-01").and_hms_opt(h, 0, 0).unwrap().and_utc()
    }

    #[test]
    fn no_contact_table() {
        let h1 = uuid::Uuid::from_u128(1);
        let h2 = uuid::Uuid::from_u128(2);
        let her = |court: &str, from: u32, to: u32, separated: bool| Attendance {
            person: "PP-1",
            hearing: h1,
            court: court.into(),
            starts_at: at(from),
            ends_at: at(to),
            separated,
        };
        let him = |court: &str, from: u32, to: u32| Attendance {
            person: "suspect",
            hearing: h2,
            court: court.into(),
            starts_at: at(from),
            ends_at: at(to),
            separated: false,
        };
        let table = vec![
            (
                her("Phnom Penh Court", 9, 11, false),
                him("phnom penh  court", 10, 12),
                1,
            ),
            (
                her("Phnom Penh Court", 9, 11, true),
                him("Phnom Penh Court", 10, 12),
                0,
            ),
            (
                her("Phnom Penh Court", 9, 11, false),
                him("Phnom Penh Court", 11, 12),
                0,
            ),
            (
                her("Phnom Penh Court", 9, 11, false),
                him("Siem Reap Court", 9, 11),
                0,
            ),
        ];
        for (s, a, n) in table {
            assert_eq!(
                no_contact_warnings(std::slice::from_ref(&s), std::slice::from_ref(&a)).len(),
                n,
                "{s:?} {a:?}"
            );
        }
    }

    #[test]
    fn deadlines_follow_the_stages() {
        use Stage::*;
        let arrested = vec![(Complaint, d("2026-01-01")), (Arrest, d("2026-01-02"))];
        let dl = statutory_deadlines(&arrested);
        assert_eq!(dl.len(), 1);
        assert_eq!(dl[0].kind, "statutory-custody");
        assert_eq!(
            dl[0].due,
            d("2026-01-04").and_hms_opt(0, 0, 0).unwrap().and_utc()
        );
        let judged = vec![
            (Complaint, d("2026-01-01")),
            (Arrest, d("2026-01-02")),
            (Charge, d("2026-01-03")),
            (TrialHearings, d("2026-03-01")),
            (Verdict, d("2026-03-31")),
        ];
        let dl = statutory_deadlines(&judged);
        assert_eq!(dl.len(), 1);
        assert_eq!(dl[0].kind, "statutory-appeal");
        assert_eq!(dl[0].due.date_naive(), d("2026-04-30"));
        assert!(upcoming(at(10), at(9), Duration::hours(2)));
        assert!(!upcoming(at(8), at(9), Duration::hours(2)));
    }

    #[test]
    fn what_is_missing() {
        let s = SurvivorFile {
            reference: "PP-1".into(),
            takes_part: true,
            minor: true,
            has_medical_report: false,
            has_age_evidence: false,
            statements_signed: vec![true, false],
            hearings_without_plan: 1,
        };
        let keys: Vec<_> = missing(
            std::slice::from_ref(&s),
            0,
            1,
            &[(Stage::Charge, d("2026-01-01"))],
        )
        .into_iter()
        .map(|m| m.key)
        .collect();
        assert_eq!(
            keys,
            [
                "no-charge",
                "no-medical-report",
                "no-age-evidence",
                "unsigned-statement",
                "no-accompaniment-plan"
            ]
        );
        let withdrawn = SurvivorFile {
            takes_part: false,
            ..s
        };
        assert!(missing(&[withdrawn], 1, 1, &[]).is_empty());
        assert_eq!(missing(&[], 0, 0, &[]).len(), 2);
    }

    #[test]
    fn outcome_figures_add_up() {
        let j = |convicted, days| Judgment {
            convicted,
            sentence_months: convicted.then_some(120),
            compensation_ordered: 1000,
            compensation_paid: 0,
            days_to_verdict: days,
        };
        let f = outcome_figures(&[j(true, Some(100)), j(false, Some(300)), j(true, None)]);
        assert_eq!((f.convictions, f.acquittals), (2, 1));
        assert_eq!(f.sentence_months_total, 240);
        assert_eq!(f.compensation_ordered, 3000);
        assert_eq!(f.median_days_to_verdict, Some(200));
    }

    #[test]
    fn file_names_are_plain() {
        assert_eq!(file_name(" photo 1.jpg ").unwrap(), "photo 1.jpg");
        for bad in ["../x", "a/b", "a\\b", "", "..", "c:evil", "x\u{0}"] {
            assert!(file_name(bad).is_err(), "{bad:?}");
        }
    }
}
