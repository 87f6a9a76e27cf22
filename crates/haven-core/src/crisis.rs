//! Crisis care: the first 48 hours after a rescue, at the police station, until each girl is
//! placed with a partner. The rules here are pure; the store feeds them facts and a clock.
//!
//! - Aftercare staff stay with the girls day and night: any hour of the roster with nobody on
//!   duty is a gap.
//! - Someone checks on each girl at least every four hours.
//! - Three safeguards must be confirmed: she is not held in a cell, has no contact with
//!   suspects, and female staff are present.
//! - Placement ends the episode. The 48-hour mark and every hour past it are flagged. A minor
//!   goes first to an assessment centre. A girl who speaks only Vietnamese needs
//!   Vietnamese-speaking staff.

use crate::intervention::CLOCK_SKEW;
use crate::{PartnerService, ValidationError};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// Crisis care should end with a placement within this time.
pub const PLACEMENT_TARGET: Duration = Duration::hours(48);
/// From this time in care, the coming 48-hour mark is flagged.
pub const PLACEMENT_WARNING: Duration = Duration::hours(36);
/// Longest time without a logged contact.
pub const CONTACT_INTERVAL: Duration = Duration::hours(4);
/// How far ahead roster gaps are reported.
pub const ROSTER_LOOKAHEAD: Duration = Duration::hours(12);
/// Each safeguard is confirmed within this time of rescue, and again as often.
pub const SAFEGUARD_INTERVAL: Duration = Duration::hours(12);
/// A second confirmation of the same safeguard for the same girl within this time is taken
/// for a repeated tap (a slow connection, a double tap) and asked about before it is recorded
/// again, so her log shows what staff checked, not how often the button was pressed.
pub const REPEAT_WINDOW: Duration = Duration::minutes(10);
/// Longest single shift.
pub const MAX_SHIFT: Duration = Duration::hours(24);
/// The staff's own language: a girl who speaks it needs no other.
pub const STAFF_LANGUAGE: &str = "km";
/// A rostered person may read the girls' records this long before her shift starts and after
/// it ends, so the team can hand over at the police station; outside it the roster grants
/// nothing, so a shift booked for next month opens nothing today.
pub const HANDOVER_MARGIN: Duration = Duration::minutes(30);

macro_rules! choice_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(input: &str) -> Result<$name, ValidationError> {
                let wanted = input.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    ValidationError::new(
                        $field,
                        format!(
                            "'{}' is not one of: {}",
                            input.trim(),
                            $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    )
                })
            }
        }
    };
}

choice_enum!(
    /// What a care-log entry records.
    CareLogKind, "kind", {
        Contact => "contact",
        Meal => "meal",
        CarePackage => "care_package",
        MedicalCheck => "medical_check",
        InterpreterSession => "interpreter_session",
    }
);

choice_enum!(
    /// What a care package holds.
    CareItem, "items", {
        Food => "food",
        Water => "water",
        Toiletries => "toiletries",
        Clothing => "clothing",
    }
);

choice_enum!(
    /// A safeguard staff confirm for each girl.
    Safeguard, "safeguard", {
        NotInCell => "not_in_cell",
        NoSuspectContact => "no_suspect_contact",
        FemaleStaffPresent => "female_staff_present",
    }
);

impl CareLogKind {
    /// Every entry is someone with her, so it counts as contact, except a meal alone.
    pub const fn counts_as_contact(self) -> bool {
        !matches!(self, CareLogKind::Meal)
    }
}

/// Checks a care-log entry at `now` for an episode that started at `rescued_at`.
pub fn check_log_entry(
    kind: CareLogKind,
    items: &[CareItem],
    at: DateTime<Utc>,
    rescued_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ValidationError> {
    check_not_future("at", at, now)?;
    if at < rescued_at {
        return Err(ValidationError::new(
            "at",
            format!(
                "is before her rescue ({}); check the date and time",
                rescued_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    match (kind, items.is_empty()) {
        (CareLogKind::CarePackage, true) => Err(ValidationError::new(
            "items",
            "tick what the care package held: food, water, toiletries or clothing",
        )),
        (CareLogKind::CarePackage, false) | (_, true) => Ok(()),
        (_, false) => Err(ValidationError::new(
            "items",
            "items are recorded only for a care package",
        )),
    }
}

/// Refuses a time later than now (allowing for clock differences).
pub fn check_not_future(
    field: &'static str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ValidationError> {
    if at > now + CLOCK_SKEW {
        return Err(ValidationError::new(
            field,
            "is in the future; enter when it happened",
        ));
    }
    Ok(())
}

/// A shift on the roster: who, from when, until when, speaking which languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift<U> {
    pub staff: U,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub languages: Vec<String>,
}

/// Whether a shift from `starts_at` to `ends_at` puts its staff on the crisis team at `now`:
/// during the shift, with the hand-over margin either side.
pub fn on_crisis_duty(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let (latest_start, earliest_end) = crisis_duty_bounds(now);
    starts_at <= latest_start && ends_at > earliest_end
}

/// The same rule as [`on_crisis_duty`], as bounds for a query: a shift counts at `now` when it
/// starts at or before the first value and ends after the second.
pub fn crisis_duty_bounds(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now + HANDOVER_MARGIN, now - HANDOVER_MARGIN)
}

/// Checks a shift's times.
pub fn check_shift(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<(), ValidationError> {
    if ends_at <= starts_at {
        return Err(ValidationError::new(
            "ends_at",
            "the shift must end after it starts",
        ));
    }
    if ends_at - starts_at > MAX_SHIFT {
        return Err(ValidationError::new(
            "ends_at",
            "a shift lasts at most 24 hours; add a second shift for the next day",
        ));
    }
    Ok(())
}

/// The stretches of `[from, to)` that no shift covers (optionally only shifts whose staff
/// speak `language`), merged and in time order.
pub fn coverage_gaps<U>(
    shifts: &[Shift<U>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    language: Option<&str>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut covered: Vec<(DateTime<Utc>, DateTime<Utc>)> = shifts
        .iter()
        .filter(|s| language.is_none_or(|l| s.languages.iter().any(|x| x == l)))
        .filter(|s| s.ends_at > from && s.starts_at < to)
        .map(|s| (s.starts_at.max(from), s.ends_at.min(to)))
        .collect();
    covered.sort();
    let mut gaps = Vec::new();
    let mut cursor = from;
    for (start, end) in covered {
        if start > cursor {
            gaps.push((cursor, start));
        }
        cursor = cursor.max(end);
    }
    if cursor < to {
        gaps.push((cursor, to));
    }
    gaps
}

/// One hour of the roster grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterHour<U> {
    pub starts_at: DateTime<Utc>,
    /// Staff on duty at any time in the hour.
    pub on_duty: Vec<U>,
    /// Some part of the hour has nobody on duty.
    pub gap: bool,
}

/// The roster as whole hours from the hour of `from`, for `hours` hours.
pub fn roster_hours<U: Clone + PartialEq>(
    shifts: &[Shift<U>],
    from: DateTime<Utc>,
    hours: u32,
) -> Vec<RosterHour<U>> {
    let start = from.duration_trunc(Duration::hours(1)).unwrap_or(from);
    (0..i64::from(hours))
        .map(|h| {
            let starts_at = start + Duration::hours(h);
            let ends_at = starts_at + Duration::hours(1);
            let mut on_duty: Vec<U> = Vec::new();
            for s in shifts
                .iter()
                .filter(|s| s.ends_at > starts_at && s.starts_at < ends_at)
            {
                if !on_duty.contains(&s.staff) {
                    on_duty.push(s.staff.clone());
                }
            }
            let gap = !coverage_gaps(shifts, starts_at, ends_at, None).is_empty();
            RosterHour {
                starts_at,
                on_duty,
                gap,
            }
        })
        .collect()
}

/// The language staff on duty must speak for her, if Khmer-speaking staff are not enough: a
/// girl who does not speak Khmer needs staff who speak her (first) language.
pub fn staff_language_needed(languages: &[String]) -> Option<String> {
    if languages.is_empty() || languages.iter().any(|l| l == STAFF_LANGUAGE) {
        None
    } else {
        languages.first().cloned()
    }
}

/// [`staff_language_needed`] from her `languages` field as stored (`vi` or `km,en`).
pub fn staff_language_for(languages: Option<&str>) -> Result<Option<String>, ValidationError> {
    let codes = crate::survivor::parse_languages("languages", languages.unwrap_or(""))?;
    Ok(staff_language_needed(&codes))
}

/// Checks when she was rescued against when the intervention began and the clock.
pub fn check_rescue(
    rescued_at: DateTime<Utc>,
    intervention_began: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ValidationError> {
    check_not_future("rescued_at", rescued_at, now)?;
    if rescued_at < intervention_began {
        return Err(ValidationError::new(
            "rescued_at",
            format!(
                "is before the intervention began ({}); check the date and time",
                intervention_began.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    Ok(())
}

/// Where her 48 hours stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PlacementClock {
    OnTrack,
    /// The 48-hour mark is near.
    Approaching {
        hours_left: i64,
    },
    /// Past 48 hours; every hour counts.
    Overdue {
        hours_past: i64,
    },
    Placed,
}

/// The clock of one episode.
pub fn placement_clock(
    rescued_at: DateTime<Utc>,
    placed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> PlacementClock {
    if placed_at.is_some() {
        return PlacementClock::Placed;
    }
    let in_care = now - rescued_at;
    if in_care >= PLACEMENT_TARGET {
        PlacementClock::Overdue {
            hours_past: (in_care - PLACEMENT_TARGET).num_hours(),
        }
    } else if in_care >= PLACEMENT_WARNING {
        PlacementClock::Approaching {
            hours_left: (PLACEMENT_TARGET - in_care).num_hours(),
        }
    } else {
        PlacementClock::OnTrack
    }
}

/// How long she has been in crisis care, or was until her placement.
pub fn time_in_care(
    rescued_at: DateTime<Utc>,
    placed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Duration {
    placed_at.unwrap_or(now) - rescued_at
}

/// When someone last saw her: the last logged contact, or her rescue.
pub fn last_seen(
    rescued_at: DateTime<Utc>,
    last_contact_at: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    last_contact_at.unwrap_or(rescued_at)
}

/// "31 h 05 min": a duration as hours and minutes, never negative.
pub fn hours_minutes(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

/// The latest check of one safeguard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeguardState {
    pub safeguard: Safeguard,
    pub last: Option<(DateTime<Utc>, bool)>,
}

/// Whether confirming a safeguard (`met`) at `now` merely repeats its `last` check: the
/// last check was a confirmation less than `REPEAT_WINDOW` ago. A breach report is never a
/// repeat, and neither is a confirmation after a breach.
pub fn is_repeat_confirmation(
    last: Option<(DateTime<Utc>, bool)>,
    met: bool,
    now: DateTime<Utc>,
) -> bool {
    match last {
        Some((at, true)) if met => now - at < REPEAT_WINDOW,
        _ => false,
    }
}

/// Whether a safeguard is due to be confirmed at `now`: confirmed more than
/// `SAFEGUARD_INTERVAL` ago, or never and her first hour in care is over. A breach is not
/// "due" (it is an alert of its own), and nothing is due once she is placed.
pub fn safeguard_due(
    last: Option<(DateTime<Utc>, bool)>,
    rescued_at: DateTime<Utc>,
    placed: bool,
    now: DateTime<Utc>,
) -> bool {
    if placed {
        return false;
    }
    match last {
        Some((_, false)) => false,
        Some((at, true)) => now - at > SAFEGUARD_INTERVAL,
        None => now - rescued_at > Duration::hours(1),
    }
}

/// What is known about one girl in crisis care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeFacts {
    pub rescued_at: DateTime<Utc>,
    pub placed_at: Option<DateTime<Utc>>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub safeguards: Vec<SafeguardState>,
    /// Whether a victim-identification screening has been recorded.
    pub screened: bool,
}

/// Something that needs someone's attention now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// A safeguard was reported as not met.
    SafeguardBreached { safeguard: Safeguard },
    /// Past 48 hours without a placement.
    PlacementOverdue { hours_past: i64 },
    /// The 48-hour mark is near.
    PlacementDue { hours_left: i64 },
    /// No contact logged for four hours (or ever, since rescue).
    NoContact { since: DateTime<Utc> },
    /// A safeguard has not been confirmed in time.
    SafeguardMissing { safeguard: Safeguard },
    /// Nobody on the roster for a stretch in the next 12 hours.
    RosterGap {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Nobody speaking her language on the roster for a stretch in the next 12 hours.
    LanguageGap {
        language: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

impl Alert {
    /// Fluent message ID describing the alert.
    pub const fn message_key(&self) -> &'static str {
        match self {
            Alert::SafeguardBreached { .. } => "alert-safeguard-breached",
            Alert::PlacementOverdue { .. } => "alert-placement-overdue",
            Alert::PlacementDue { .. } => "alert-placement-due",
            Alert::NoContact { .. } => "alert-no-contact",
            Alert::SafeguardMissing { .. } => "alert-safeguard-missing",
            Alert::RosterGap { .. } => "alert-roster-gap",
            Alert::LanguageGap { .. } => "alert-language-gap",
        }
    }

    /// Lower is more urgent.
    pub const fn urgency(&self) -> u8 {
        match self {
            Alert::SafeguardBreached { .. } => 0,
            Alert::PlacementOverdue { .. } => 1,
            Alert::NoContact { .. } => 2,
            Alert::SafeguardMissing { .. } => 3,
            Alert::PlacementDue { .. } => 4,
            Alert::LanguageGap { .. } => 5,
            Alert::RosterGap { .. } => 6,
        }
    }
}

/// The alerts of one girl's episode at `now`, most urgent first. None once she is placed.
pub fn episode_alerts(facts: &EpisodeFacts, now: DateTime<Utc>) -> Vec<Alert> {
    if facts.placed_at.is_some() {
        return Vec::new();
    }
    let mut alerts = Vec::new();
    for state in &facts.safeguards {
        match state.last {
            Some((_, false)) => alerts.push(Alert::SafeguardBreached {
                safeguard: state.safeguard,
            }),
            last if safeguard_due(last, facts.rescued_at, false, now) => {
                alerts.push(Alert::SafeguardMissing {
                    safeguard: state.safeguard,
                })
            }
            _ => {}
        }
    }
    match placement_clock(facts.rescued_at, facts.placed_at, now) {
        PlacementClock::Overdue { hours_past } => {
            alerts.push(Alert::PlacementOverdue { hours_past })
        }
        PlacementClock::Approaching { hours_left } => {
            alerts.push(Alert::PlacementDue { hours_left })
        }
        PlacementClock::OnTrack | PlacementClock::Placed => {}
    }
    let since = last_seen(facts.rescued_at, facts.last_contact_at);
    if now - since >= CONTACT_INTERVAL {
        alerts.push(Alert::NoContact { since });
    }
    alerts.sort_by_key(Alert::urgency);
    alerts
}

/// The roster alerts of an intervention with girls still in care: gaps in the next 12 hours,
/// and gaps in staff speaking each language a girl needs.
pub fn roster_alerts<U>(
    shifts: &[Shift<U>],
    languages_needed: &[String],
    now: DateTime<Utc>,
) -> Vec<Alert> {
    let to = now + ROSTER_LOOKAHEAD;
    let mut alerts: Vec<Alert> = coverage_gaps(shifts, now, to, None)
        .into_iter()
        .map(|(from, to)| Alert::RosterGap { from, to })
        .collect();
    let mut needed: Vec<&String> = languages_needed.iter().collect();
    needed.sort();
    needed.dedup();
    for language in needed {
        alerts.extend(
            coverage_gaps(shifts, now, to, Some(language))
                .into_iter()
                .map(|(from, to)| Alert::LanguageGap {
                    language: language.clone(),
                    from,
                    to,
                }),
        );
    }
    alerts
}

/// The next thing to do for her, shown on the police-station page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// A safeguard was breached: act now and tell the team lead.
    ResolveSafeguard,
    /// Place her now: 48 hours have passed or are close.
    PlaceNow,
    /// Go and see her; log the contact.
    CheckOnHer,
    /// Confirm the safeguards.
    ConfirmSafeguards,
    /// Do the victim-identification screening.
    Screen,
    /// Find her a placement.
    ArrangePlacement,
    Placed,
}

impl NextStep {
    pub const fn message_key(self) -> &'static str {
        match self {
            NextStep::ResolveSafeguard => "next-resolve-safeguard",
            NextStep::PlaceNow => "next-place-now",
            NextStep::CheckOnHer => "next-check-on-her",
            NextStep::ConfirmSafeguards => "next-confirm-safeguards",
            NextStep::Screen => "next-screen",
            NextStep::ArrangePlacement => "next-arrange-placement",
            NextStep::Placed => "next-placed",
        }
    }
}

/// The most urgent step for her at `now`.
pub fn next_step(facts: &EpisodeFacts, now: DateTime<Utc>) -> NextStep {
    if facts.placed_at.is_some() {
        return NextStep::Placed;
    }
    let alerts = episode_alerts(facts, now);
    let has = |f: fn(&Alert) -> bool| alerts.iter().any(f);
    if has(|a| matches!(a, Alert::SafeguardBreached { .. })) {
        NextStep::ResolveSafeguard
    } else if has(|a| {
        matches!(
            a,
            Alert::PlacementOverdue { .. } | Alert::PlacementDue { .. }
        )
    }) {
        NextStep::PlaceNow
    } else if has(|a| matches!(a, Alert::NoContact { .. })) {
        NextStep::CheckOnHer
    } else if has(|a| matches!(a, Alert::SafeguardMissing { .. }))
        || facts.safeguards.iter().any(|s| s.last.is_none())
    {
        NextStep::ConfirmSafeguards
    } else if !facts.screened {
        NextStep::Screen
    } else {
        NextStep::ArrangePlacement
    }
}

/// A placement as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRequest<'a> {
    pub rescued_at: DateTime<Utc>,
    pub placed_at: DateTime<Utc>,
    pub service: PartnerService,
    /// The services the chosen partner provides.
    pub partner_services: &'a [PartnerService],
    /// She is a minor or a probable minor, or has not been screened yet.
    pub treated_as_minor: bool,
}

/// Checks a placement: not before the rescue nor in the future, to a place where she can
/// stay that the partner provides, and a minor to an assessment centre first.
pub fn check_placement(
    p: &PlacementRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(), ValidationError> {
    check_not_future("placed_at", p.placed_at, now)?;
    if p.placed_at < p.rescued_at {
        return Err(ValidationError::new(
            "placed_at",
            format!(
                "a placement cannot be before the rescue ({})",
                p.rescued_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    if !p.service.is_residential() {
        return Err(ValidationError::new(
            "service",
            format!(
                "{} is not a place to stay; choose an assessment centre, shelter or residential care",
                p.service.as_str()
            ),
        ));
    }
    if !p.partner_services.contains(&p.service) {
        return Err(ValidationError::new(
            "partner",
            format!("this partner does not provide {}", p.service.as_str()),
        ));
    }
    if p.treated_as_minor && p.service != PartnerService::AssessmentCentre {
        return Err(ValidationError::new(
            "service",
            "a minor (or a girl who may be one) is placed first at an assessment centre",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap() + Duration::hours(h)
    }
    fn shift(staff: u8, from: i64, to: i64, langs: &[&str]) -> Shift<u8> {
        Shift {
            staff,
            starts_at: t(from),
            ends_at: t(to),
            languages: langs.iter().map(|l| (*l).to_owned()).collect(),
        }
    }
    fn facts() -> EpisodeFacts {
        EpisodeFacts {
            rescued_at: t(0),
            placed_at: None,
            last_contact_at: Some(t(0)),
            safeguards: Safeguard::ALL
                .iter()
                .map(|s| SafeguardState {
                    safeguard: *s,
                    last: Some((t(0), true)),
                })
                .collect(),
            screened: true,
        }
    }

    #[test]
    fn gaps_are_the_uncovered_stretches() {
        let shifts = [
            shift(1, 0, 8, &["km"]),
            shift(2, 6, 12, &["km", "vi"]),
            shift(3, 14, 20, &["km"]),
        ];
        assert_eq!(
            coverage_gaps(&shifts, t(0), t(24), None),
            vec![(t(12), t(14)), (t(20), t(24))]
        );
        assert_eq!(
            coverage_gaps(&shifts, t(0), t(24), Some("vi")),
            vec![(t(0), t(6)), (t(12), t(24))]
        );
        assert!(coverage_gaps(&shifts, t(1), t(11), None).is_empty());
        assert_eq!(
            coverage_gaps::<u8>(&[], t(0), t(1), None),
            vec![(t(0), t(1))]
        );
    }

    #[test]
    fn the_hour_grid_marks_any_hour_with_a_hole() {
        let shifts = [
            shift(1, 0, 2, &[]),
            Shift {
                starts_at: t(2) + Duration::minutes(30),
                ..shift(2, 2, 4, &[])
            },
        ];
        let hours = roster_hours(&shifts, t(0) + Duration::minutes(10), 5);
        assert_eq!(hours.len(), 5);
        assert_eq!(hours[0].starts_at, t(0));
        assert_eq!(
            hours.iter().map(|h| h.gap).collect::<Vec<_>>(),
            vec![false, false, true, false, true]
        );
        assert_eq!(hours[2].on_duty, vec![2]);
    }

    #[test]
    fn shifts_must_end_after_they_start() {
        assert_eq!(check_shift(t(8), t(8)).unwrap_err().field, "ends_at");
        assert_eq!(check_shift(t(8), t(2)).unwrap_err().field, "ends_at");
        assert!(check_shift(t(0), t(25)).is_err());
        assert!(check_shift(t(0), t(12)).is_ok());
    }

    #[test]
    fn the_48_hour_clock() {
        assert_eq!(placement_clock(t(0), None, t(10)), PlacementClock::OnTrack);
        assert_eq!(
            placement_clock(t(0), None, t(40)),
            PlacementClock::Approaching { hours_left: 8 }
        );
        assert_eq!(
            placement_clock(t(0), None, t(48)),
            PlacementClock::Overdue { hours_past: 0 }
        );
        assert_eq!(
            placement_clock(t(0), None, t(53)),
            PlacementClock::Overdue { hours_past: 5 }
        );
        assert_eq!(
            placement_clock(t(0), Some(t(30)), t(53)),
            PlacementClock::Placed
        );
        assert_eq!(hours_minutes(Duration::minutes(31 * 60 + 5)), "31 h 05 min");
    }

    #[test]
    fn a_confirmation_within_the_window_is_a_repeat() {
        let confirmed = Some((t(0), true));
        let just_inside = t(0) + REPEAT_WINDOW - Duration::seconds(1);
        assert!(is_repeat_confirmation(confirmed, true, t(0)));
        assert!(is_repeat_confirmation(confirmed, true, just_inside));
        assert!(!is_repeat_confirmation(
            confirmed,
            true,
            t(0) + REPEAT_WINDOW
        ));
        // A breach report is always recorded, and so is a confirmation after a breach or
        // the first one.
        assert!(!is_repeat_confirmation(confirmed, false, just_inside));
        assert!(!is_repeat_confirmation(
            Some((t(0), false)),
            true,
            just_inside
        ));
        assert!(!is_repeat_confirmation(None, true, t(0)));
    }

    #[test]
    fn a_safeguard_is_due_after_twelve_hours_or_the_first_hour() {
        let confirmed = Some((t(0), true));
        assert!(!safeguard_due(confirmed, t(0), false, t(12)));
        assert!(safeguard_due(confirmed, t(0), false, t(13)));
        assert!(!safeguard_due(confirmed, t(0), true, t(13)));
        assert!(!safeguard_due(
            None,
            t(0),
            false,
            t(0) + Duration::minutes(30)
        ));
        assert!(safeguard_due(None, t(0), false, t(2)));
        assert!(!safeguard_due(Some((t(0), false)), t(0), false, t(20)));
    }

    #[test]
    fn alerts_of_an_episode() {
        assert!(episode_alerts(&facts(), t(2)).is_empty());
        // No contact for 4 hours, the 48-hour mark near, a safeguard due again.
        let alerts = episode_alerts(&facts(), t(40));
        assert!(alerts.contains(&Alert::NoContact { since: t(0) }));
        assert!(alerts.contains(&Alert::PlacementDue { hours_left: 8 }));
        assert!(alerts.contains(&Alert::SafeguardMissing {
            safeguard: Safeguard::NotInCell
        }));
        // A breach comes first.
        let mut breached = facts();
        breached.safeguards[1].last = Some((t(1), false));
        let alerts = episode_alerts(&breached, t(50));
        assert_eq!(
            alerts[0],
            Alert::SafeguardBreached {
                safeguard: Safeguard::NoSuspectContact
            }
        );
        assert_eq!(alerts[1], Alert::PlacementOverdue { hours_past: 2 });
        // Unconfirmed safeguards are reported after the first hour.
        let mut fresh = facts();
        fresh.safeguards[2].last = None;
        assert!(episode_alerts(&fresh, t(0) + Duration::minutes(30)).is_empty());
        assert_eq!(
            episode_alerts(&fresh, t(2)),
            vec![Alert::SafeguardMissing {
                safeguard: Safeguard::FemaleStaffPresent
            }]
        );
        // Placed: nothing.
        let mut placed = breached;
        placed.placed_at = Some(t(49));
        assert!(episode_alerts(&placed, t(60)).is_empty());
    }

    #[test]
    fn roster_alerts_look_twelve_hours_ahead_and_check_languages() {
        let shifts = [shift(1, 0, 8, &["km"]), shift(2, 8, 10, &["km", "vi"])];
        let alerts = roster_alerts(&shifts, &["vi".to_owned(), "vi".to_owned()], t(1));
        assert_eq!(
            alerts,
            vec![
                Alert::RosterGap {
                    from: t(10),
                    to: t(13)
                },
                Alert::LanguageGap {
                    language: "vi".into(),
                    from: t(1),
                    to: t(8)
                },
                Alert::LanguageGap {
                    language: "vi".into(),
                    from: t(10),
                    to: t(13)
                },
            ]
        );
    }

    #[test]
    fn the_next_step_follows_urgency() {
        assert_eq!(next_step(&facts(), t(1)), NextStep::ArrangePlacement);
        let mut unscreened = facts();
        unscreened.screened = false;
        assert_eq!(next_step(&unscreened, t(1)), NextStep::Screen);
        assert_eq!(next_step(&facts(), t(5)), NextStep::CheckOnHer);
        assert_eq!(next_step(&facts(), t(47)), NextStep::PlaceNow);
        let mut breached = facts();
        breached.safeguards[0].last = Some((t(1), false));
        assert_eq!(next_step(&breached, t(47)), NextStep::ResolveSafeguard);
    }

    #[test]
    fn a_rescue_falls_within_the_intervention_and_not_in_the_future() {
        assert!(check_rescue(t(1), t(0), t(2)).is_ok());
        assert!(check_rescue(t(-1), t(0), t(2))
            .unwrap_err()
            .message
            .contains("before the intervention began"));
        assert_eq!(
            check_rescue(t(3), t(0), t(2)).unwrap_err().field,
            "rescued_at"
        );
        assert_eq!(staff_language_for(Some("vi")).unwrap(), Some("vi".into()));
        assert_eq!(staff_language_for(None).unwrap(), None);
        assert!(staff_language_for(Some("Vietnamese")).is_err());
    }

    #[test]
    fn language_needs() {
        let langs = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(staff_language_needed(&langs(&["vi"])), Some("vi".into()));
        assert_eq!(staff_language_needed(&langs(&["vi", "km"])), None);
        assert_eq!(staff_language_needed(&langs(&[])), None);
    }

    #[test]
    fn placement_rules() {
        use PartnerService::*;
        let request = |service, services: &'static [PartnerService], minor, at| PlacementRequest {
            rescued_at: t(0),
            placed_at: at,
            service,
            partner_services: services,
            treated_as_minor: minor,
        };
        let now = t(30);
        assert!(check_placement(
            &request(AssessmentCentre, &[AssessmentCentre], true, t(20)),
            now
        )
        .is_ok());
        assert!(check_placement(
            &request(
                LongTermResidentialCare,
                &[LongTermResidentialCare],
                false,
                t(20)
            ),
            now
        )
        .is_ok());
        let refused = |r: PlacementRequest<'_>| check_placement(&r, now).unwrap_err().field;
        assert_eq!(
            refused(request(
                LongTermResidentialCare,
                &[LongTermResidentialCare],
                true,
                t(20)
            )),
            "service"
        );
        assert_eq!(
            refused(request(AssessmentCentre, &[AssessmentCentre], true, t(-1))),
            "placed_at"
        );
        assert_eq!(
            refused(request(AssessmentCentre, &[AssessmentCentre], true, t(31))),
            "placed_at"
        );
        assert_eq!(
            refused(request(Counselling, &[Counselling], false, t(20))),
            "service"
        );
        assert_eq!(
            refused(request(
                AssessmentCentre,
                &[LongTermResidentialCare],
                true,
                t(20)
            )),
            "partner"
        );
    }

    #[test]
    fn care_log_entries_are_checked() {
        let now = t(10);
        assert!(check_log_entry(CareLogKind::Contact, &[], t(5), t(0), now).is_ok());
        assert_eq!(
            check_log_entry(CareLogKind::Meal, &[], t(-1), t(0), now)
                .unwrap_err()
                .field,
            "at"
        );
        assert_eq!(
            check_log_entry(CareLogKind::Meal, &[], t(12), t(0), now)
                .unwrap_err()
                .field,
            "at"
        );
        assert_eq!(
            check_log_entry(CareLogKind::CarePackage, &[], t(5), t(0), now)
                .unwrap_err()
                .field,
            "items"
        );
        assert!(check_log_entry(
            CareLogKind::CarePackage,
            &[CareItem::Water],
            t(5),
            t(0),
            now
        )
        .is_ok());
        assert_eq!(
            check_log_entry(CareLogKind::Contact, &[CareItem::Food], t(5), t(0), now)
                .unwrap_err()
                .field,
            "items"
        );
        assert!(CareItem::parse("soap")
            .unwrap_err()
            .message
            .contains("toiletries"));
    }

    #[test]
    fn a_shift_grants_crisis_duty_only_around_its_own_hours() {
        let now = t(0);
        let minutes = |m: i64| now + Duration::minutes(m);
        // (starts, ends, on duty now?)
        let table = [
            (t(-2), t(6), true),                 // during the shift
            (minutes(29), t(8), true),           // starts within the hand-over margin
            (minutes(30), t(8), true),           // exactly at the margin
            (minutes(31), t(8), false),          // too early
            (t(48), t(56), false),               // a shift in two days
            (t(24 * 30), t(24 * 30 + 1), false), // a one-hour shift next month
            (t(-8), minutes(-29), true),         // ended within the margin
            (t(-8), minutes(-30), false),        // ended at the margin
            (t(-60), t(-48), false),             // ended two days ago
        ];
        for (starts, ends, expected) in table {
            assert_eq!(
                on_crisis_duty(starts, ends, now),
                expected,
                "{starts} – {ends}"
            );
        }
    }
}
