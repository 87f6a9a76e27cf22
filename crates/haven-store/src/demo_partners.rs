//! Demo profiles of the partner organisations (real names appear only in demo data): whom
//! each accepts, the languages its staff speak, the regions it serves, beds and contacts.
//! A couple are near capacity, so the dashboard has something to show.

use crate::partner_profiles::{self, ProfileInput};
use crate::{StoreError, Tx};
use haven_core::matching::{Agreement, Sex};
use haven_core::{OrgId, PartnerService, RequestContext};

struct DemoProfile {
    name: &'static str,
    ages: (Option<u8>, Option<u8>),
    girls_only: bool,
    languages: &'static str,
    regions: &'static str,
    beds: u32,
    occupancy: u32,
    contact: (&'static str, &'static str, &'static str),
}

const PROFILES: [DemoProfile; 9] = [
    DemoProfile {
        name: "World Hope International",
        ages: (Some(0), Some(17)),
        girls_only: true,
        languages: "km,en",
        regions: "phnom penh,kandal,takeo",
        beds: 12,
        occupancy: 9,
        contact: (
            "Intake coordinator",
            "+855 23 000 101",
            "intake@worldhope.example",
        ),
    },
    DemoProfile {
        name: "Agape International Missions",
        ages: (Some(8), Some(18)),
        girls_only: true,
        languages: "km,en",
        regions: "phnom penh,kandal",
        beds: 50,
        occupancy: 44,
        contact: (
            "Aftercare director",
            "+855 23 000 102",
            "aftercare@aim.example",
        ),
    },
    DemoProfile {
        name: "Rapha House",
        ages: (Some(10), Some(18)),
        girls_only: true,
        languages: "km",
        regions: "phnom penh,battambang",
        beds: 30,
        occupancy: 29,
        contact: (
            "Residential manager",
            "+855 23 000 103",
            "care@rapha.example",
        ),
    },
    DemoProfile {
        name: "Hagar",
        ages: (Some(8), Some(24)),
        girls_only: true,
        languages: "km,en",
        regions: "phnom penh,siem reap",
        beds: 40,
        occupancy: 31,
        contact: (
            "Case management lead",
            "+855 23 000 104",
            "referrals@hagar.example",
        ),
    },
    DemoProfile {
        name: "Transitions Global",
        ages: (Some(16), Some(25)),
        girls_only: true,
        languages: "km,en",
        regions: "phnom penh",
        beds: 15,
        occupancy: 15,
        contact: (
            "Programme manager",
            "+855 23 000 105",
            "info@transitions.example",
        ),
    },
    DemoProfile {
        name: "World Vision",
        ages: (None, Some(17)),
        girls_only: false,
        languages: "km,vi,en",
        regions: "phnom penh,an giang,svay rieng,kampong cham",
        beds: 10,
        occupancy: 6,
        contact: (
            "Child protection officer",
            "+855 23 000 106",
            "protection@wv.example",
        ),
    },
    DemoProfile {
        name: "Bloom Café",
        ages: (Some(16), None),
        girls_only: true,
        languages: "km,en",
        regions: "phnom penh",
        beds: 0,
        occupancy: 0,
        contact: (
            "Training manager",
            "+855 23 000 107",
            "training@bloom.example",
        ),
    },
    DemoProfile {
        name: "Sak Saum",
        ages: (Some(16), None),
        girls_only: false,
        languages: "km",
        regions: "phnom penh,kandal",
        beds: 0,
        occupancy: 0,
        contact: ("Workshop lead", "+855 23 000 108", "hello@saksaum.example"),
    },
    DemoProfile {
        name: "Chab Dai Coalition",
        ages: (None, None),
        girls_only: false,
        languages: "km,en,vi",
        regions: "phnom penh,siem reap,battambang,sihanoukville",
        beds: 0,
        occupancy: 0,
        contact: (
            "Coalition secretariat",
            "+855 23 000 109",
            "coalition@chabdai.example",
        ),
    },
];

/// Writes the demo partners' profiles inside the seeding transaction; `services` gives each
/// partner's services.
pub async fn seed_profiles(
    tx: &mut Tx,
    ctx: &RequestContext,
    partners: &[(&str, OrgId)],
    services: impl Fn(&str) -> &'static [PartnerService],
) -> Result<(), StoreError> {
    for profile in &PROFILES {
        let Some((_, org)) = partners.iter().find(|(name, _)| *name == profile.name) else {
            return Err(StoreError::Internal(format!(
                "demo partner {} missing",
                profile.name
            )));
        };
        let input = ProfileInput {
            services: services(profile.name).to_vec(),
            min_age: profile.ages.0,
            max_age: profile.ages.1,
            sexes: if profile.girls_only {
                vec![Sex::Female]
            } else {
                Vec::new()
            },
            languages: profile.languages.to_owned(),
            regions: profile.regions.to_owned(),
            beds: profile.beds,
            occupancy: profile.occupancy,
            contact_name: profile.contact.0.to_owned(),
            contact_phone: profile.contact.1.to_owned(),
            contact_email: profile.contact.2.to_owned(),
            agreement: Some(Agreement::Active),
        };
        partner_profiles::set_in(tx, ctx, None, *org, &input).await?;
    }
    Ok(())
}
