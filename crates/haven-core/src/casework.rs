//! Long-term case management: the individual plan over seven areas, services delivered,
//! follow-up scheduling, risk, incidents, case closure and case notes. Pure rules only; the
//! store keeps the records and the policy decides who reads them.
//!
//! The failure this guards against is the quiet one (DOMAIN.md, "Ongoing case management"): a
//! need nobody owns, a follow-up that never happens, a girl re-trafficked under family pressure.

use crate::survivor::FieldClass;
use crate::ValidationError;
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Longest free text kept in one plan field or service outcome.
pub const MAX_TEXT: usize = 4000;
/// Longest case note, after sanitising.
pub const MAX_NOTE: usize = 20_000;
/// Most goals one area may hold.
pub const MAX_GOALS: usize = 20;

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal, $label:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(input: &str) -> Result<$name, ValidationError> {
                let wanted = input.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        ValidationError::new(
                            $field,
                            format!(
                                "'{wanted}' is not a {}; choose one of: {}",
                                $label,
                                $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        )
                    })
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum!(
    /// The seven areas of every survivor's individual plan.
    PlanArea, "area", "plan area" {
        Treatment => "treatment",
        Medical => "medical",
        Psychosocial => "psychosocial",
        Placement => "placement",
        Economic => "economic",
        LegalSupport => "legal_support",
        Transition => "transition",
    }
);

impl PlanArea {
    /// The sensitivity class of what is written in this area. Medical needs and goals are
    /// medical information; everything else is psychosocial.
    pub const fn class(self) -> FieldClass {
        match self {
            PlanArea::Medical => FieldClass::Medical,
            _ => FieldClass::Psychosocial,
        }
    }
}

word_enum!(
    /// Where an area of the plan stands.
    AreaStatus, "status", "status" {
        NotStarted => "not_started",
        InProgress => "in_progress",
        Met => "met",
        NotNeeded => "not_needed",
    }
);

word_enum!(
    GoalStatus, "goal_status", "goal status" {
        Open => "open",
        Met => "met",
        Dropped => "dropped",
    }
);

/// One goal of an area, with the date it should be reached by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    pub text: String,
    pub target: NaiveDate,
    pub status: GoalStatus,
}

/// Who owns an area: a staff member, or a partner organisation through a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Responsible {
    #[default]
    Nobody,
    Staff {
        user: uuid::Uuid,
    },
    Partner {
        org: uuid::Uuid,
        referral: uuid::Uuid,
    },
}

/// One area of one version of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaPlan {
    pub area: PlanArea,
    pub status: AreaStatus,
    pub responsible: Responsible,
    /// The needs assessed.
    pub needs: String,
    pub goals: Vec<Goal>,
    /// What she says she wants, in her own words.
    pub her_words: String,
}

impl AreaPlan {
    pub fn empty(area: PlanArea) -> AreaPlan {
        AreaPlan {
            area,
            status: AreaStatus::NotStarted,
            responsible: Responsible::Nobody,
            needs: String::new(),
            goals: Vec::new(),
            her_words: String::new(),
        }
    }
}

fn check_text(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            field,
            format!("is too long (at most {MAX_TEXT} characters)"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "contains characters that cannot be stored",
        ));
    }
    Ok(())
}

/// Checks a plan before it is saved: each area once, texts of sane length, and no goal whose
/// target date lies before the plan started (a goal cannot be due before the plan exists).
pub fn check_plan(started_on: NaiveDate, areas: &[AreaPlan]) -> Result<(), ValidationError> {
    let mut seen = Vec::new();
    for area in areas {
        if seen.contains(&area.area) {
            return Err(ValidationError::new(
                "area",
                format!("the area '{}' is given twice", area.area),
            ));
        }
        seen.push(area.area);
        check_text("needs", &area.needs)?;
        check_text("her_words", &area.her_words)?;
        if area.goals.len() > MAX_GOALS {
            return Err(ValidationError::new(
                "goals",
                format!("an area holds at most {MAX_GOALS} goals"),
            ));
        }
        for goal in &area.goals {
            if goal.text.trim().is_empty() {
                return Err(ValidationError::new("goals", "a goal needs a description"));
            }
            check_text("goals", &goal.text)?;
            if goal.target < started_on {
                return Err(ValidationError::new(
                    "goals",
                    format!(
                        "the goal '{}' has a target date ({}) before the plan started ({})",
                        goal.text.trim(),
                        goal.target,
                        started_on
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// One difference between two versions of a plan, for "what changed" at a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum PlanChange {
    AreaAdded {
        area: PlanArea,
    },
    AreaRemoved {
        area: PlanArea,
    },
    Status {
        area: PlanArea,
        from: AreaStatus,
        to: AreaStatus,
    },
    Responsible {
        area: PlanArea,
    },
    Needs {
        area: PlanArea,
    },
    HerWords {
        area: PlanArea,
    },
    GoalAdded {
        area: PlanArea,
        goal: String,
    },
    GoalRemoved {
        area: PlanArea,
        goal: String,
    },
    GoalStatus {
        area: PlanArea,
        goal: String,
        from: GoalStatus,
        to: GoalStatus,
    },
    GoalTarget {
        area: PlanArea,
        goal: String,
        from: NaiveDate,
        to: NaiveDate,
    },
}

/// What changed from `old` to `new`, area by area in the fixed area order. Goals are matched
/// by their text.
pub fn diff(old: &[AreaPlan], new: &[AreaPlan]) -> Vec<PlanChange> {
    let mut changes = Vec::new();
    for &area in PlanArea::ALL {
        let before = old.iter().find(|a| a.area == area);
        let after = new.iter().find(|a| a.area == area);
        match (before, after) {
            (None, None) => {}
            (None, Some(_)) => changes.push(PlanChange::AreaAdded { area }),
            (Some(_), None) => changes.push(PlanChange::AreaRemoved { area }),
            (Some(b), Some(a)) => {
                if b.status != a.status {
                    changes.push(PlanChange::Status {
                        area,
                        from: b.status,
                        to: a.status,
                    });
                }
                if b.responsible != a.responsible {
                    changes.push(PlanChange::Responsible { area });
                }
                if b.needs != a.needs {
                    changes.push(PlanChange::Needs { area });
                }
                if b.her_words != a.her_words {
                    changes.push(PlanChange::HerWords { area });
                }
                for goal in &a.goals {
                    match b.goals.iter().find(|g| g.text == goal.text) {
                        None => changes.push(PlanChange::GoalAdded {
                            area,
                            goal: goal.text.clone(),
                        }),
                        Some(prev) => {
                            if prev.status != goal.status {
                                changes.push(PlanChange::GoalStatus {
                                    area,
                                    goal: goal.text.clone(),
                                    from: prev.status,
                                    to: goal.status,
                                });
                            }
                            if prev.target != goal.target {
                                changes.push(PlanChange::GoalTarget {
                                    area,
                                    goal: goal.text.clone(),
                                    from: prev.target,
                                    to: goal.target,
                                });
                            }
                        }
                    }
                }
                for goal in &b.goals {
                    if !a.goals.iter().any(|g| g.text == goal.text) {
                        changes.push(PlanChange::GoalRemoved {
                            area,
                            goal: goal.text.clone(),
                        });
                    }
                }
            }
        }
    }
    changes
}

word_enum!(
    /// Kinds of service delivered to a survivor, each belonging to an area of the plan.
    ServiceKind, "kind", "service" {
        Counselling => "counselling",
        MedicalCheck => "medical_check",
        StiHivTest => "sti_hiv_test",
        Treatment => "treatment",
        SchoolEnrolment => "school_enrolment",
        VocationalTraining => "vocational_training",
        Literacy => "literacy",
        LifeSkills => "life_skills",
        JobPlacement => "job_placement",
        CourtAccompaniment => "court_accompaniment",
        FamilyVisit => "family_visit",
        HomeVisit => "home_visit",
        Shelter => "shelter",
    }
);

impl ServiceKind {
    /// The plan area this service serves.
    pub const fn area(self) -> PlanArea {
        match self {
            ServiceKind::Counselling => PlanArea::Psychosocial,
            ServiceKind::MedicalCheck | ServiceKind::StiHivTest | ServiceKind::Treatment => {
                PlanArea::Medical
            }
            ServiceKind::SchoolEnrolment
            | ServiceKind::VocationalTraining
            | ServiceKind::Literacy
            | ServiceKind::LifeSkills
            | ServiceKind::JobPlacement => PlanArea::Economic,
            ServiceKind::CourtAccompaniment => PlanArea::LegalSupport,
            ServiceKind::FamilyVisit | ServiceKind::HomeVisit => PlanArea::Transition,
            ServiceKind::Shelter => PlanArea::Placement,
        }
    }

    /// Whether a result of this service is a medical result (the most sensitive class:
    /// only her assigned caseworker reads it, never in a list, export or notification).
    pub const fn has_medical_result(self) -> bool {
        matches!(self.area(), PlanArea::Medical)
    }
}

/// Checks the date of a service: not before she was rescued (when known) and not in the future.
/// `today` is the date where the team works (a caseworker in Cambodia writes the local date,
/// a day ahead of UTC each night until 07:00).
pub fn check_service_date(
    delivered_on: NaiveDate,
    rescued_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), ValidationError> {
    if let Some(rescued) = rescued_on {
        if delivered_on < rescued {
            return Err(ValidationError::new(
                "delivered_on",
                format!("the service is dated {delivered_on}, before she was rescued ({rescued})"),
            ));
        }
    }
    if delivered_on > today {
        return Err(ValidationError::new(
            "delivered_on",
            format!("the service is dated {delivered_on}, which is in the future; record it once it has happened"),
        ));
    }
    Ok(())
}

/// Checks the free text of a service outcome or medical result.
pub fn check_service_text(field: &'static str, value: &str) -> Result<(), ValidationError> {
    check_text(field, value)
}

/// How often she is followed up, in days, by phase since her plan started. A manager sets it
/// per organisation; the defaults are weekly in the first month, monthly in the first year and
/// quarterly after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub first_month_days: u32,
    pub first_year_days: u32,
    pub after_days: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            first_month_days: 7,
            first_year_days: 30,
            after_days: 90,
        }
    }
}

impl Schedule {
    /// Checks a schedule a manager sets: each interval from 1 to 365 days, and never longer in
    /// an earlier phase than in a later one.
    pub fn check(self) -> Result<Schedule, ValidationError> {
        for (field, days) in [
            ("first_month_days", self.first_month_days),
            ("first_year_days", self.first_year_days),
            ("after_days", self.after_days),
        ] {
            if !(1..=365).contains(&days) {
                return Err(ValidationError::new(
                    field,
                    "must be between 1 and 365 days",
                ));
            }
        }
        if self.first_month_days > self.first_year_days || self.first_year_days > self.after_days {
            return Err(ValidationError::new(
                "first_month_days",
                "contacts in the first month cannot be rarer than later ones, nor those in the first year rarer than after it",
            ));
        }
        Ok(self)
    }

    /// Days between contacts for a survivor `days_in_care` days after her plan started, at
    /// risk `level`: high risk means weekly whatever the phase, medium at most fortnightly.
    pub fn interval(self, days_in_care: i64, level: RiskLevel) -> u32 {
        let base = if days_in_care < 30 {
            self.first_month_days
        } else if days_in_care < 365 {
            self.first_year_days
        } else {
            self.after_days
        };
        match level {
            RiskLevel::High => base.min(7),
            RiskLevel::Medium => base.min(14),
            RiskLevel::Low => base,
        }
    }

    /// When the next contact is due after one on `last`, for a plan started on `started`.
    pub fn next_due(self, started: NaiveDate, last: NaiveDate, level: RiskLevel) -> NaiveDate {
        let days_in_care = (last - started).num_days().max(0);
        let interval = self.interval(days_in_care, level);
        last.checked_add_days(Days::new(u64::from(interval)))
            .unwrap_or(last)
    }
}

word_enum!(
    /// What a follow-up is: a contact with her, a review of her plan, or a check-in after
    /// her case was closed.
    FollowUpKind, "kind", "follow-up" {
        Contact => "contact",
        Review => "review",
        PostClosure => "post_closure",
    }
);

word_enum!(
    RiskLevel, "level", "risk level" {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

/// The structured part of a risk assessment: the known drivers of re-trafficking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskFactors {
    /// Her family presses her to earn money.
    pub family_pressure: bool,
    /// A suspect or a recruiter has contacted her or her family.
    pub suspect_contact: bool,
    /// She or her family owes money.
    pub debt: bool,
    /// She has dropped out of school or training.
    pub school_dropout: bool,
}

impl RiskFactors {
    /// The level the factors point to: contact from a suspect is high by itself, as are any
    /// two factors together; one factor is medium.
    pub fn level(self) -> RiskLevel {
        let count = [
            self.family_pressure,
            self.suspect_contact,
            self.debt,
            self.school_dropout,
        ]
        .into_iter()
        .filter(|f| *f)
        .count();
        if self.suspect_contact || count >= 2 {
            RiskLevel::High
        } else if count == 1 {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }

    /// The names of the factors present, for lists and the audit trail.
    pub fn present(self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.family_pressure {
            out.push("family_pressure");
        }
        if self.suspect_contact {
            out.push("suspect_contact");
        }
        if self.debt {
            out.push("debt");
        }
        if self.school_dropout {
            out.push("school_dropout");
        }
        out
    }
}

/// The level an assessment records: the assessor may raise the level the factors give, never
/// lower it (a worker's judgement adds caution, it does not remove it).
pub fn assessed_level(factors: RiskFactors, judged: Option<RiskLevel>) -> RiskLevel {
    let computed = factors.level();
    match judged {
        Some(level) if level > computed => level,
        _ => computed,
    }
}

word_enum!(
    /// Incidents that alert the team lead at once.
    IncidentKind, "kind", "kind of incident" {
        Threat => "threat",
        RanAway => "ran_away",
        SuspectedRetrafficking => "suspected_retrafficking",
        Other => "other",
    }
);

/// What must be true and recorded before a case is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClosureCriteria {
    /// She lives in a safe arrangement.
    pub safe_living: bool,
    /// She has a sustainable income, or is in school or training.
    pub income_or_school: bool,
    /// A final review of her plan has been held.
    pub final_review: bool,
}

impl ClosureCriteria {
    /// The criteria not met, by name.
    pub fn unmet(self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.safe_living {
            out.push("safe_living");
        }
        if !self.income_or_school {
            out.push("income_or_school");
        }
        if !self.final_review {
            out.push("final_review");
        }
        out
    }

    /// Refuses closure while any criterion is unmet, naming each.
    pub fn check(self) -> Result<(), ValidationError> {
        let unmet = self.unmet();
        if unmet.is_empty() {
            return Ok(());
        }
        let words: Vec<&str> = unmet
            .iter()
            .map(|c| match *c {
                "safe_living" => "a safe living arrangement",
                "income_or_school" => "a sustainable income or schooling",
                _ => "a final review of her plan",
            })
            .collect();
        Err(ValidationError::new(
            "criteria",
            format!(
                "the case cannot be closed yet: not recorded: {}",
                words.join("; ")
            ),
        ))
    }
}

/// The check-ins after closure: six and twelve months after the case was closed.
pub fn post_closure_check_ins(closed_on: NaiveDate) -> [NaiveDate; 2] {
    [6, 12].map(|months| {
        closed_on
            .checked_add_months(Months::new(months))
            .unwrap_or(closed_on)
    })
}

/// Sanitises the rich text of a case note: only simple formatting survives (paragraphs,
/// emphasis, lists, headings, line breaks); scripts, styles, event handlers, links and images
/// are removed with their content where they carry code.
pub fn sanitise_note(html: &str) -> Result<String, ValidationError> {
    let clean = ammonia::Builder::empty()
        .add_tags([
            "p",
            "br",
            "b",
            "strong",
            "i",
            "em",
            "u",
            "ul",
            "ol",
            "li",
            "h3",
            "h4",
            "blockquote",
        ])
        .clean(html)
        .to_string();
    let clean = clean.trim().to_owned();
    if text_of(&clean).trim().is_empty() {
        return Err(ValidationError::new("body", "the note is empty"));
    }
    if clean.chars().count() > MAX_NOTE {
        return Err(ValidationError::new(
            "body",
            format!("the note is too long (at most {MAX_NOTE} characters)"),
        ));
    }
    Ok(clean)
}

/// Whether a note was written as HTML (from the editor, or pasted) rather than as plain text:
/// it holds an HTML element's tag. Plain text such as "do not tell <the family>" stays text.
pub fn looks_like_html(text: &str) -> bool {
    const TAGS: [&str; 32] = [
        "p",
        "br",
        "b",
        "i",
        "u",
        "em",
        "strong",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "div",
        "span",
        "blockquote",
        "script",
        "style",
        "img",
        "a",
        "iframe",
        "svg",
        "object",
        "embed",
        "form",
        "input",
        "link",
        "meta",
        "table",
    ];
    let lower = text.to_ascii_lowercase();
    lower.match_indices('<').any(|(at, _)| {
        let rest = lower[at + 1..].trim_start_matches('/');
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let after = rest[name.len()..].chars().next();
        TAGS.contains(&name.as_str()) && matches!(after, Some('>' | '/' | ' ' | '\t' | '\n'))
    })
}

/// Whether sanitising changed the text a worker typed (so the page can say what was removed).
pub fn note_was_neutralised(typed: &str, clean: &str) -> bool {
    typed.trim() != clean
}

/// The text of sanitised HTML without its tags (for emptiness checks and previews).
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line of a caseload: what is known about her next step, for ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseloadKey {
    pub overdue: i64,
    pub next_due: Option<NaiveDate>,
    pub level: Option<RiskLevel>,
}

/// The order of a caseload: girls with overdue items first (most overdue first), then by the
/// next due date (soonest first; none last), higher risk first on a tie.
pub fn caseload_order(a: &CaseloadKey, b: &CaseloadKey) -> std::cmp::Ordering {
    let overdue_first = (b.overdue > 0).cmp(&(a.overdue > 0));
    overdue_first
        .then_with(|| b.overdue.cmp(&a.overdue))
        .then_with(|| match (a.next_due, b.next_due) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
        .then_with(|| b.level.cmp(&a.level))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn goal(text: &str, target: &str) -> Goal {
        Goal {
            text: text.into(),
            target: d(target),
            status: GoalStatus::Open,
        }
    }

    #[test]
    fn every_area_parses_back_and_medical_is_medical() {
        for area in PlanArea::ALL {
            assert_eq!(PlanArea::parse(area.as_str()).unwrap(), *area);
        }
        assert_eq!(PlanArea::ALL.len(), 7);
        assert_eq!(PlanArea::Medical.class(), FieldClass::Medical);
        assert_eq!(PlanArea::Economic.class(), FieldClass::Psychosocial);
        let err = PlanArea::parse("hobbies").unwrap_err();
        assert!(err.message.contains("treatment"), "{}", err.message);
    }

    #[test]
    fn a_goal_due_before_the_plan_started_is_refused() {
        let mut area = AreaPlan::empty(PlanArea::Economic);
        area.goals.push(goal("Enrol in grade 4", "2026-01-10"));
        let err = check_plan(d("2026-02-01"), &[area.clone()]).unwrap_err();
        assert!(
            err.message.contains("before the plan started"),
            "{}",
            err.message
        );
        assert!(check_plan(d("2026-01-01"), &[area]).is_ok());
    }

    #[test]
    fn an_area_given_twice_or_an_empty_goal_is_refused() {
        let a = AreaPlan::empty(PlanArea::Medical);
        assert!(check_plan(d("2026-01-01"), &[a.clone(), a.clone()]).is_err());
        let mut b = a;
        b.goals.push(goal("  ", "2026-05-01"));
        assert!(check_plan(d("2026-01-01"), &[b]).is_err());
    }

    #[test]
    fn diff_names_what_changed_at_a_review() {
        let mut old = AreaPlan::empty(PlanArea::Economic);
        old.goals.push(goal("Literacy class", "2026-06-01"));
        old.goals.push(goal("Sewing course", "2026-09-01"));
        let mut new = old.clone();
        new.status = AreaStatus::InProgress;
        new.goals[0].status = GoalStatus::Met;
        new.goals.remove(1);
        new.goals.push(goal("Job placement", "2027-01-01"));
        new.her_words = "I want to open a shop".into();
        let medical = AreaPlan::empty(PlanArea::Medical);
        let changes = diff(&[old], &[new, medical]);
        assert_eq!(
            changes,
            vec![
                PlanChange::AreaAdded {
                    area: PlanArea::Medical
                },
                PlanChange::Status {
                    area: PlanArea::Economic,
                    from: AreaStatus::NotStarted,
                    to: AreaStatus::InProgress
                },
                PlanChange::HerWords {
                    area: PlanArea::Economic
                },
                PlanChange::GoalStatus {
                    area: PlanArea::Economic,
                    goal: "Literacy class".into(),
                    from: GoalStatus::Open,
                    to: GoalStatus::Met
                },
                PlanChange::GoalAdded {
                    area: PlanArea::Economic,
                    goal: "Job placement".into()
                },
                PlanChange::GoalRemoved {
                    area: PlanArea::Economic,
                    goal: "Sewing course".into()
                },
            ]
        );
        assert!(diff(&changes_free(), &changes_free()).is_empty());
    }

    fn changes_free() -> Vec<AreaPlan> {
        PlanArea::ALL.iter().map(|a| AreaPlan::empty(*a)).collect()
    }

    #[test]
    fn a_service_before_her_rescue_or_in_the_future_is_refused() {
        let today = d("2026-11-26");
        let err = check_service_date(d("2026-01-01"), Some(d("2026-02-01")), today).unwrap_err();
        assert!(err.message.contains("before she was rescued"));
        assert!(check_service_date(d("2026-12-01"), None, today).is_err());
        // `today` is the team's date: today is fine, tomorrow is not.
        assert!(check_service_date(d("2026-11-26"), None, today).is_ok());
        assert!(check_service_date(d("2026-11-27"), None, today).is_err());
        assert!(check_service_date(d("2026-02-01"), Some(d("2026-02-01")), today).is_ok());
    }

    #[test]
    fn only_medical_services_carry_medical_results() {
        assert!(ServiceKind::StiHivTest.has_medical_result());
        assert!(!ServiceKind::SchoolEnrolment.has_medical_result());
        assert_eq!(ServiceKind::JobPlacement.area(), PlanArea::Economic);
    }

    #[test]
    fn the_default_schedule_is_weekly_then_monthly_then_quarterly() {
        let s = Schedule::default();
        let start = d("2026-01-01");
        assert_eq!(
            s.next_due(start, d("2026-01-08"), RiskLevel::Low),
            d("2026-01-15")
        );
        assert_eq!(
            s.next_due(start, d("2026-03-01"), RiskLevel::Low),
            d("2026-03-31")
        );
        assert_eq!(
            s.next_due(start, d("2027-06-01"), RiskLevel::Low),
            d("2027-08-30")
        );
    }

    #[test]
    fn risk_tightens_the_schedule() {
        let s = Schedule::default();
        let start = d("2025-01-01");
        let last = d("2026-06-01");
        assert_eq!(s.next_due(start, last, RiskLevel::High), d("2026-06-08"));
        assert_eq!(s.next_due(start, last, RiskLevel::Medium), d("2026-06-15"));
    }

    #[test]
    fn a_schedule_out_of_range_or_upside_down_is_refused() {
        let bad = Schedule {
            first_month_days: 0,
            ..Schedule::default()
        };
        assert!(bad.check().is_err());
        let upside = Schedule {
            first_month_days: 60,
            first_year_days: 30,
            after_days: 90,
        };
        assert!(upside.check().is_err());
        assert!(Schedule::default().check().is_ok());
    }

    #[test]
    fn risk_level_from_factors_and_judgement_only_raises() {
        let none = RiskFactors::default();
        assert_eq!(none.level(), RiskLevel::Low);
        let pressure = RiskFactors {
            family_pressure: true,
            ..none
        };
        assert_eq!(pressure.level(), RiskLevel::Medium);
        let contact = RiskFactors {
            suspect_contact: true,
            ..none
        };
        assert_eq!(contact.level(), RiskLevel::High);
        let two = RiskFactors {
            debt: true,
            school_dropout: true,
            ..none
        };
        assert_eq!(two.level(), RiskLevel::High);
        assert_eq!(
            assessed_level(pressure, Some(RiskLevel::Low)),
            RiskLevel::Medium
        );
        assert_eq!(assessed_level(none, Some(RiskLevel::High)), RiskLevel::High);
        assert_eq!(two.present(), vec!["debt", "school_dropout"]);
    }

    #[test]
    fn closure_needs_every_criterion() {
        let partial = ClosureCriteria {
            safe_living: true,
            income_or_school: false,
            final_review: false,
        };
        let err = partial.check().unwrap_err();
        assert!(
            err.message.contains("sustainable income"),
            "{}",
            err.message
        );
        assert!(err.message.contains("final review"), "{}", err.message);
        let all = ClosureCriteria {
            safe_living: true,
            income_or_school: true,
            final_review: true,
        };
        assert!(all.check().is_ok());
    }

    #[test]
    fn check_ins_at_six_and_twelve_months() {
        assert_eq!(
            post_closure_check_ins(d("2026-08-31")),
            [d("2027-02-28"), d("2027-08-31")]
        );
    }

    #[test]
    fn script_and_html_injection_is_neutralised() {
        let typed = r#"<p onclick="steal()">Met her at <b>school</b></p><script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:x">link</a><style>p{}</style>"#;
        let clean = sanitise_note(typed).unwrap();
        assert_eq!(clean, "<p>Met her at <b>school</b></p>link");
        assert!(note_was_neutralised(typed, &clean));
        assert!(sanitise_note("<script>only code</script>").is_err());
        assert!(!note_was_neutralised("<p>plain</p>", "<p>plain</p>"));
        assert!(looks_like_html("<p>x</p>"));
        assert!(looks_like_html("hi <script>alert(1)</script>"));
        assert!(looks_like_html("<IMG src=x onerror=y>"));
        assert!(!looks_like_html("do not tell <the family>"));
        assert!(!looks_like_html("score < 5 and > 2"));
    }

    #[test]
    fn overdue_girls_come_first_then_the_soonest_due() {
        let mut keys = [
            CaseloadKey {
                overdue: 0,
                next_due: Some(d("2026-12-01")),
                level: Some(RiskLevel::Low),
            },
            CaseloadKey {
                overdue: 0,
                next_due: None,
                level: None,
            },
            CaseloadKey {
                overdue: 2,
                next_due: Some(d("2026-11-01")),
                level: Some(RiskLevel::Low),
            },
            CaseloadKey {
                overdue: 0,
                next_due: Some(d("2026-11-28")),
                level: Some(RiskLevel::High),
            },
        ];
        keys.sort_by(caseload_order);
        assert_eq!(keys[0].overdue, 2);
        assert_eq!(keys[1].next_due, Some(d("2026-11-28")));
        assert_eq!(keys[3].next_due, None);
    }
}
