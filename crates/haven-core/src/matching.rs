//! Matching a survivor to partner organisations: which partners may take her for a need (hard
//! rules), in which order (soft rules), and why, as reason codes with arguments so the
//! interface can say it in the reader's language.
//!
//! Hard rules exclude: an agreement that is not active, an age or sex the partner does not
//! accept, a service the partner does not provide, no free bed for a placement, a partner she
//! declined. Soft rules order the rest: a minor's first placement goes to an assessment centre
//! first, then a shared language, her home region, and free capacity.

use crate::{OrgId, PartnerService, ValidationError};
use serde::{Deserialize, Serialize};

/// Adulthood, for the rule that minors go first to an assessment centre.
pub const ADULT_AGE: u8 = 18;

/// Sexes a partner may accept (the values of the survivor field `sex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
}

impl Sex {
    pub const ALL: [Sex; 3] = [Sex::Female, Sex::Male, Sex::Other];

    pub const fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Result<Sex, ValidationError> {
        let wanted = input.trim().to_ascii_lowercase();
        Sex::ALL
            .into_iter()
            .find(|s| s.as_str() == wanted)
            .ok_or_else(|| ValidationError::new("sexes", "must be female, male or other"))
    }

    /// A comma-separated list, sorted, without duplicates.
    pub fn parse_list(input: &str) -> Result<Vec<Sex>, ValidationError> {
        let mut out = input
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Sex::parse)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// The state of a partner's agreement with the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    Active,
    Paused,
    Ended,
}

impl Agreement {
    pub const ALL: [Agreement; 3] = [Agreement::Active, Agreement::Paused, Agreement::Ended];

    pub const fn as_str(self) -> &'static str {
        match self {
            Agreement::Active => "active",
            Agreement::Paused => "paused",
            Agreement::Ended => "ended",
        }
    }

    pub fn parse(input: &str) -> Result<Agreement, ValidationError> {
        let wanted = input.trim().to_ascii_lowercase();
        Agreement::ALL
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| ValidationError::new("agreement", "must be active, paused or ended"))
    }
}

/// What a partner offers, as matching needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerProfile {
    pub org: OrgId,
    pub name: String,
    pub services: Vec<PartnerService>,
    /// Youngest age accepted, in whole years; `None` when there is no lower limit.
    pub min_age: Option<u8>,
    /// Oldest age accepted; `None` when there is no upper limit.
    pub max_age: Option<u8>,
    /// Sexes accepted; empty means all.
    pub sexes: Vec<Sex>,
    /// Language codes its staff speak.
    pub languages: Vec<String>,
    /// Provinces or regions it serves (lower-case names).
    pub regions: Vec<String>,
    pub beds: u32,
    pub occupancy: u32,
    pub agreement: Agreement,
}

impl PartnerProfile {
    pub fn free_beds(&self) -> u32 {
        self.beds.saturating_sub(self.occupancy)
    }

    /// Near capacity: at most one bed free, or nine tenths full.
    pub fn near_capacity(&self) -> bool {
        self.beds > 0 && (self.free_beds() <= 1 || self.occupancy * 10 >= self.beds * 9)
    }

    fn is_residential(&self) -> bool {
        self.services.iter().any(|s| s.is_residential())
    }
}

/// What is known about her, as matching needs it. Unknown facts never exclude a partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurvivorFacts {
    /// Her age in whole years, if known (date of birth, stated or estimated age).
    pub age: Option<u8>,
    /// True when identification found her a minor (certain or probable), or her age is
    /// under 18.
    pub minor: bool,
    pub sex: Option<Sex>,
    /// Language codes she speaks.
    pub languages: Vec<String>,
    /// Her home province or region (lower-case), if known.
    pub home_region: Option<String>,
    /// Partners she said she does not want to go to.
    pub declined: Vec<OrgId>,
    /// Whether she has been placed before (then this is not her first placement).
    pub placed_before: bool,
}

/// What she is referred for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "service")]
pub enum Need {
    /// Somewhere to live: a partner with a residential service and a free bed.
    Placement,
    /// One service from the taxonomy.
    Service(PartnerService),
}

impl Need {
    pub fn as_string(self) -> String {
        match self {
            Need::Placement => "placement".to_owned(),
            Need::Service(s) => s.as_str().to_owned(),
        }
    }

    pub fn parse(input: &str) -> Result<Need, ValidationError> {
        if input.trim().eq_ignore_ascii_case("placement") {
            return Ok(Need::Placement);
        }
        PartnerService::parse(input)
            .map(Need::Service)
            .map_err(|_| {
                ValidationError::new(
                    "need",
                    format!(
                        "'{}' is not a need; choose placement or one of: {}",
                        input.trim(),
                        PartnerService::ALL.map(PartnerService::as_str).join(", ")
                    ),
                )
            })
    }

    pub const fn is_placement(self) -> bool {
        matches!(self, Need::Placement)
    }
}

/// One reason in a match explanation: a code for the interface to translate, with arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Reason {
    // Hard rules: any of these excludes the partner.
    AgreementNotActive {
        agreement: Agreement,
    },
    TooYoung {
        min_age: u8,
    },
    TooOld {
        max_age: u8,
    },
    MinorsNotAccepted,
    SexNotAccepted {
        sex: Sex,
    },
    ServiceNotProvided {
        service: PartnerService,
    },
    NoResidentialCare,
    NoFreeBed,
    SheDeclined,
    // Soft rules and facts, in the order they are shown.
    AssessmentCentreFirst,
    ServesMinors,
    ServesAges {
        min_age: Option<u8>,
        max_age: Option<u8>,
    },
    ProvidesService {
        service: PartnerService,
    },
    SpeaksLanguage {
        language: String,
    },
    NoSharedLanguage,
    InHomeRegion {
        region: String,
    },
    OutsideHomeRegion,
    BedsFree {
        beds: u32,
    },
}

impl Reason {
    /// The stable code (also the suffix of the translation key `referral-reason-<code>`).
    pub const fn code(&self) -> &'static str {
        match self {
            Reason::AgreementNotActive { .. } => "agreement_not_active",
            Reason::TooYoung { .. } => "too_young",
            Reason::TooOld { .. } => "too_old",
            Reason::MinorsNotAccepted => "minors_not_accepted",
            Reason::SexNotAccepted { .. } => "sex_not_accepted",
            Reason::ServiceNotProvided { .. } => "service_not_provided",
            Reason::NoResidentialCare => "no_residential_care",
            Reason::NoFreeBed => "no_free_bed",
            Reason::SheDeclined => "she_declined",
            Reason::AssessmentCentreFirst => "assessment_centre_first",
            Reason::ServesMinors => "serves_minors",
            Reason::ServesAges { .. } => "serves_ages",
            Reason::ProvidesService { .. } => "provides_service",
            Reason::SpeaksLanguage { .. } => "speaks_language",
            Reason::NoSharedLanguage => "no_shared_language",
            Reason::InHomeRegion { .. } => "in_home_region",
            Reason::OutsideHomeRegion => "outside_home_region",
            Reason::BedsFree { .. } => "beds_free",
        }
    }

    /// The named arguments of the reason, for translation.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        let age = |a: Option<u8>| a.map(|a| a.to_string()).unwrap_or_default();
        match self {
            Reason::AgreementNotActive { agreement } => {
                vec![("agreement", agreement.as_str().to_owned())]
            }
            Reason::TooYoung { min_age } => vec![("age", min_age.to_string())],
            Reason::TooOld { max_age } => vec![("age", max_age.to_string())],
            Reason::SexNotAccepted { sex } => vec![("sex", sex.as_str().to_owned())],
            Reason::ServiceNotProvided { service } | Reason::ProvidesService { service } => {
                vec![("service", service.as_str().to_owned())]
            }
            Reason::ServesAges { min_age, max_age } => {
                vec![("min", age(*min_age)), ("max", age(*max_age))]
            }
            Reason::SpeaksLanguage { language } => vec![("language", language.clone())],
            Reason::InHomeRegion { region } => vec![("region", region.clone())],
            Reason::BedsFree { beds } => vec![("beds", beds.to_string())],
            _ => Vec::new(),
        }
    }

    /// Whether this reason excludes the partner.
    pub const fn excludes(&self) -> bool {
        matches!(
            self,
            Reason::AgreementNotActive { .. }
                | Reason::TooYoung { .. }
                | Reason::TooOld { .. }
                | Reason::MinorsNotAccepted
                | Reason::SexNotAccepted { .. }
                | Reason::ServiceNotProvided { .. }
                | Reason::NoResidentialCare
                | Reason::NoFreeBed
                | Reason::SheDeclined
        )
    }

    /// The reason in plain English, for logs, API clients and error messages.
    pub fn english(&self) -> String {
        match self {
            Reason::AgreementNotActive { agreement } => {
                format!("the partnership agreement is {}", agreement.as_str())
            }
            Reason::TooYoung { min_age } => format!("accepts only girls and boys from {min_age}"),
            Reason::TooOld { max_age } => format!("accepts no one older than {max_age}"),
            Reason::MinorsNotAccepted => "does not accept minors".to_owned(),
            Reason::SexNotAccepted { sex } => format!("does not accept {} survivors", sex.as_str()),
            Reason::ServiceNotProvided { service } => {
                format!("does not provide {}", service.as_str().replace('_', " "))
            }
            Reason::NoResidentialCare => "has no residential care".to_owned(),
            Reason::NoFreeBed => "has no free bed".to_owned(),
            Reason::SheDeclined => "she said she does not want to go there".to_owned(),
            Reason::AssessmentCentreFirst => {
                "assessment centre: a minor's first placement goes here".to_owned()
            }
            Reason::ServesMinors => "serves minors".to_owned(),
            Reason::ServesAges { min_age, max_age } => match (min_age, max_age) {
                (Some(min), Some(max)) => format!("serves ages {min} to {max}"),
                (Some(min), None) => format!("serves ages {min} and over"),
                (None, Some(max)) => format!("serves ages up to {max}"),
                (None, None) => "serves all ages".to_owned(),
            },
            Reason::ProvidesService { service } => {
                format!("provides {}", service.as_str().replace('_', " "))
            }
            Reason::SpeaksLanguage { language } => format!("staff speak {language}"),
            Reason::NoSharedLanguage => "no staff speak her language".to_owned(),
            Reason::InHomeRegion { region } => format!("in her home region ({region})"),
            Reason::OutsideHomeRegion => "outside her home region".to_owned(),
            Reason::BedsFree { beds } => format!("{beds} bed(s) free"),
        }
    }
}

/// One partner, judged for her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub org: OrgId,
    pub name: String,
    /// Higher ranks first; meaningless for an excluded partner.
    pub score: i64,
    /// Why, in display order: exclusions first when excluded.
    pub reasons: Vec<Reason>,
}

impl Candidate {
    pub fn excluded(&self) -> bool {
        self.reasons.iter().any(Reason::excludes)
    }

    /// The reasons that exclude this partner.
    pub fn exclusions(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| r.excludes())
    }
}

/// The partners who may take her, best first, and those excluded, each with reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    pub eligible: Vec<Candidate>,
    pub excluded: Vec<Candidate>,
}

/// Judges one partner for her need.
pub fn judge(survivor: &SurvivorFacts, need: Need, partner: &PartnerProfile) -> Candidate {
    let mut hard = Vec::new();
    let mut soft = Vec::new();
    let mut score: i64 = 0;

    if partner.agreement != Agreement::Active {
        hard.push(Reason::AgreementNotActive {
            agreement: partner.agreement,
        });
    }
    if survivor.declined.contains(&partner.org) {
        hard.push(Reason::SheDeclined);
    }
    match survivor.age {
        Some(age) => {
            if let Some(min) = partner.min_age.filter(|min| age < *min) {
                hard.push(Reason::TooYoung { min_age: min });
            }
            if let Some(max) = partner.max_age.filter(|max| age > *max) {
                hard.push(Reason::TooOld { max_age: max });
            }
        }
        None => {
            if survivor.minor && partner.min_age.is_some_and(|min| min >= ADULT_AGE) {
                hard.push(Reason::MinorsNotAccepted);
            }
        }
    }
    if let Some(sex) = survivor.sex {
        if !partner.sexes.is_empty() && !partner.sexes.contains(&sex) {
            hard.push(Reason::SexNotAccepted { sex });
        }
    }
    match need {
        Need::Placement => {
            if !partner.is_residential() {
                hard.push(Reason::NoResidentialCare);
            } else if partner.free_beds() == 0 {
                hard.push(Reason::NoFreeBed);
            }
        }
        Need::Service(service) => {
            if partner.services.contains(&service) {
                soft.push(Reason::ProvidesService { service });
            } else {
                hard.push(Reason::ServiceNotProvided { service });
            }
        }
    }

    let assessment = partner.services.contains(&PartnerService::AssessmentCentre);
    if need.is_placement() && survivor.minor && !survivor.placed_before && assessment {
        soft.insert(0, Reason::AssessmentCentreFirst);
        score += 10_000;
    }
    let accepts_minors = partner.min_age.is_none_or(|min| min < ADULT_AGE);
    if survivor.minor && accepts_minors {
        soft.push(Reason::ServesMinors);
    } else if partner.min_age.is_some() || partner.max_age.is_some() {
        soft.push(Reason::ServesAges {
            min_age: partner.min_age,
            max_age: partner.max_age,
        });
    }
    if need.is_placement() {
        for service in [
            PartnerService::LongTermResidentialCare,
            PartnerService::IndependentLivingTransition,
        ] {
            if partner.services.contains(&service) {
                soft.push(Reason::ProvidesService { service });
            }
        }
    }
    if !survivor.languages.is_empty() {
        match survivor
            .languages
            .iter()
            .find(|l| partner.languages.contains(l))
        {
            Some(language) => {
                soft.push(Reason::SpeaksLanguage {
                    language: language.clone(),
                });
                score += 1_000;
            }
            None => soft.push(Reason::NoSharedLanguage),
        }
    }
    if let Some(region) = &survivor.home_region {
        if partner.regions.iter().any(|r| r == region) {
            soft.push(Reason::InHomeRegion {
                region: region.clone(),
            });
            score += 300;
        } else {
            soft.push(Reason::OutsideHomeRegion);
        }
    }
    if need.is_placement() && partner.is_residential() {
        let free = partner.free_beds();
        if free > 0 {
            soft.push(Reason::BedsFree { beds: free });
        }
        score += i64::from(free.min(20)) * 10;
    }
    hard.extend(soft);
    Candidate {
        org: partner.org,
        name: partner.name.clone(),
        score,
        reasons: hard,
    }
}

/// Ranks every partner for her need: eligible ones by score (then name), excluded ones after.
pub fn rank(survivor: &SurvivorFacts, need: Need, partners: &[PartnerProfile]) -> Ranking {
    let mut ranking = Ranking::default();
    for partner in partners {
        let candidate = judge(survivor, need, partner);
        if candidate.excluded() {
            ranking.excluded.push(candidate);
        } else {
            ranking.eligible.push(candidate);
        }
    }
    ranking
        .eligible
        .sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.name.cmp(&b.name)));
    ranking.excluded.sort_by(|a, b| a.name.cmp(&b.name));
    ranking
}

/// Her age band for aggregates, after the CTDC bands (0–8, 9–17, 18–20, 21+).
pub fn age_band(age: Option<u8>, minor: bool) -> &'static str {
    match age {
        Some(0..=8) => "0-8",
        Some(9..=17) => "9-17",
        Some(18..=20) => "18-20",
        Some(_) => "21+",
        None if minor => "9-17",
        None => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;
    use PartnerService::*;

    fn org(n: u128) -> OrgId {
        OrgId::from_uuid(Uuid::from_u128(n))
    }

    #[allow(clippy::too_many_arguments)]
    fn partner(
        n: u128,
        name: &str,
        services: &[PartnerService],
        ages: (Option<u8>, Option<u8>),
        sexes: &[Sex],
        languages: &[&str],
        beds: (u32, u32),
        agreement: Agreement,
    ) -> PartnerProfile {
        PartnerProfile {
            org: org(n),
            name: name.to_owned(),
            services: services.to_vec(),
            min_age: ages.0,
            max_age: ages.1,
            sexes: sexes.to_vec(),
            languages: languages.iter().map(|l| (*l).to_owned()).collect(),
            regions: vec!["phnom penh".to_owned()],
            beds: beds.0,
            occupancy: beds.1,
            agreement,
        }
    }

    fn network() -> Vec<PartnerProfile> {
        use Agreement::*;
        let girls = &[Sex::Female];
        vec![
            partner(
                1,
                "World Hope",
                &[AssessmentCentre, Counselling],
                (Some(0), Some(17)),
                girls,
                &["km", "en"],
                (12, 9),
                Active,
            ),
            partner(
                2,
                "Agape",
                &[LongTermResidentialCare, Counselling],
                (Some(8), Some(18)),
                girls,
                &["km"],
                (50, 44),
                Active,
            ),
            partner(
                3,
                "World Vision",
                &[EmergencyShelter, Counselling],
                (None, None),
                &[],
                &["km", "vi"],
                (10, 8),
                Active,
            ),
            partner(
                4,
                "Transitions",
                &[IndependentLivingTransition, VocationalTraining],
                (Some(16), None),
                &[],
                &["km", "en"],
                (20, 10),
                Active,
            ),
            partner(
                5,
                "Bloom",
                &[VocationalTraining, Employment],
                (Some(16), None),
                &[],
                &["km"],
                (0, 0),
                Active,
            ),
            partner(
                6,
                "Full House",
                &[LongTermResidentialCare],
                (None, None),
                girls,
                &["vi"],
                (10, 10),
                Active,
            ),
            partner(
                7,
                "Paused Shelter",
                &[EmergencyShelter],
                (None, None),
                &[],
                &["vi"],
                (10, 0),
                Paused,
            ),
            partner(
                8,
                "Boys Home",
                &[LongTermResidentialCare],
                (None, Some(17)),
                &[Sex::Male],
                &["km"],
                (10, 0),
                Active,
            ),
        ]
    }

    fn hoa() -> SurvivorFacts {
        SurvivorFacts {
            age: Some(14),
            minor: true,
            sex: Some(Sex::Female),
            languages: vec!["vi".to_owned()],
            home_region: Some("an giang".to_owned()),
            declined: Vec::new(),
            placed_before: false,
        }
    }

    fn names(list: &[Candidate]) -> Vec<&str> {
        list.iter().map(|c| c.name.as_str()).collect()
    }

    fn codes(c: &Candidate) -> Vec<&'static str> {
        c.reasons.iter().map(Reason::code).collect()
    }

    #[test]
    fn a_minors_first_placement_ranks_the_assessment_centre_first() {
        let ranking = rank(&hoa(), Need::Placement, &network());
        assert_eq!(
            names(&ranking.eligible),
            vec!["World Hope", "World Vision", "Agape"]
        );
        let first = &ranking.eligible[0];
        assert_eq!(
            codes(first),
            vec![
                "assessment_centre_first",
                "serves_minors",
                "no_shared_language",
                "outside_home_region",
                "beds_free"
            ]
        );
        assert!(first.reasons.contains(&Reason::BedsFree { beds: 3 }));
        // Vietnamese-speaking staff put World Vision above Agape, which has more free beds.
        assert!(ranking.eligible[1]
            .reasons
            .contains(&Reason::SpeaksLanguage {
                language: "vi".into()
            }));
    }

    #[test]
    fn hard_rules_exclude_and_say_why() {
        let ranking = rank(&hoa(), Need::Placement, &network());
        let why = |name: &str| {
            let c = ranking.excluded.iter().find(|c| c.name == name).unwrap();
            c.exclusions().map(Reason::code).collect::<Vec<_>>()
        };
        assert_eq!(why("Transitions"), vec!["too_young"]);
        assert_eq!(why("Bloom"), vec!["too_young", "no_residential_care"]);
        assert_eq!(why("Full House"), vec!["no_free_bed"]);
        assert_eq!(why("Paused Shelter"), vec!["agreement_not_active"]);
        assert_eq!(why("Boys Home"), vec!["sex_not_accepted"]);
    }

    /// A table: (facts change, need, expected eligible order).
    #[test]
    fn ranking_table() {
        let adult = SurvivorFacts {
            age: Some(19),
            minor: false,
            placed_before: true,
            languages: vec!["km".into()],
            ..hoa()
        };
        let placed_minor = SurvivorFacts {
            placed_before: true,
            ..hoa()
        };
        let declined = SurvivorFacts {
            declined: vec![org(1)],
            ..hoa()
        };
        let unknown_age_minor = SurvivorFacts { age: None, ..hoa() };
        let cases: Vec<(&str, SurvivorFacts, Need, Vec<&str>)> = vec![
            (
                "adult placement",
                adult.clone(),
                Need::Placement,
                vec!["Transitions", "World Vision"],
            ),
            (
                "adult vocational",
                adult,
                Need::Service(VocationalTraining),
                vec!["Bloom", "Transitions"],
            ),
            (
                "minor placed before: language first",
                placed_minor,
                Need::Placement,
                vec!["World Vision", "Agape", "World Hope"],
            ),
            (
                "she declined World Hope",
                declined,
                Need::Placement,
                vec!["World Vision", "Agape"],
            ),
            (
                "minor of unknown age",
                unknown_age_minor,
                Need::Placement,
                vec!["World Hope", "World Vision", "Transitions", "Agape"],
            ),
            (
                "counselling",
                hoa(),
                Need::Service(Counselling),
                vec!["World Vision", "Agape", "World Hope"],
            ),
            (
                "nobody does legal aid",
                hoa(),
                Need::Service(LegalAid),
                vec![],
            ),
        ];
        for (label, facts, need, expected) in cases {
            let ranking = rank(&facts, need, &network());
            assert_eq!(names(&ranking.eligible), expected, "{label}");
            assert_eq!(
                ranking.eligible.len() + ranking.excluded.len(),
                network().len(),
                "{label}"
            );
        }
    }

    #[test]
    fn unknown_facts_never_exclude() {
        let ranking = rank(&SurvivorFacts::default(), Need::Placement, &network());
        assert_eq!(ranking.eligible.len(), 5);
        assert!(ranking
            .excluded
            .iter()
            .all(|c| c.exclusions().all(|r| matches!(
                r,
                Reason::NoFreeBed | Reason::NoResidentialCare | Reason::AgreementNotActive { .. }
            ))));
    }

    #[test]
    fn reasons_carry_codes_and_arguments() {
        let r = Reason::SpeaksLanguage {
            language: "vi".into(),
        };
        assert_eq!(r.code(), "speaks_language");
        assert_eq!(r.args(), vec![("language", "vi".to_owned())]);
        assert_eq!(r.english(), "staff speak vi");
        assert_eq!(
            Reason::BedsFree { beds: 2 }.args(),
            vec![("beds", "2".to_owned())]
        );
    }

    #[test]
    fn values_parse_and_bad_ones_are_named() {
        assert_eq!(Need::parse("placement").unwrap(), Need::Placement);
        assert_eq!(
            Need::parse("school").unwrap(),
            Need::Service(PartnerService::School)
        );
        assert!(Need::parse("karaoke")
            .unwrap_err()
            .message
            .contains("placement"));
        assert_eq!(
            Sex::parse_list("male, female").unwrap(),
            vec![Sex::Female, Sex::Male]
        );
        assert_eq!(Sex::parse("x").unwrap_err().field, "sexes");
        assert_eq!(Agreement::parse("Paused").unwrap(), Agreement::Paused);
        assert_eq!(age_band(Some(14), true), "9-17");
        assert_eq!(age_band(None, true), "9-17");
        assert_eq!(age_band(None, false), "unknown");
    }

    #[test]
    fn capacity() {
        let p = &network()[0];
        assert_eq!(p.free_beds(), 3);
        assert!(!p.near_capacity());
        assert!(network()[5].near_capacity());
        assert!(!network()[1].near_capacity());
    }
}
