//! Pages of the partner network: the directory, referrals (start one, see partners ranked
//! with reasons, record her consent and send), a referral's history, the dashboard for
//! aftercare leads, and the partner portal where partner staff act on referrals to their own
//! organisation. Every read and write goes through `haven_store`, which checks the policy.

use super::{may_open, not_found_page, render, Shell};
use crate::auth::{csrf_ok, csrf_token, locale_for, PageUser};
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use haven_core::matching::{Candidate, Need, PartnerProfile, Reason};
use haven_core::nav::Section;
use haven_core::notification::NotificationKind;
use haven_core::referral::{
    CosignerRole, DeclineReason, DischargeOutcome, ReferralEvent, Side, WithdrawReason,
};
use haven_core::{FieldClass, Locale, OrgId, OrgKind, PartnerService, Role, SurvivorId};
use haven_store::referrals::{self, ConsentInput, ListFilter, Referral};
use haven_store::users::User;
use haven_store::{notifications, partner_profiles, StoreError};
use serde::Deserialize;
use uuid::Uuid;

const TIME: &str = "%Y-%m-%d %H:%M";

fn is_partner_staff(user: &User) -> bool {
    user.org_kind == OrgKind::Partner && user.roles.contains(Role::Partner)
}

/// A store refusal as a page: "not found" for what the user may not see or do, the error
/// page otherwise.
fn refused(
    state: &AppState,
    locale: Locale,
    user: &User,
    jar: CookieJar,
    err: StoreError,
) -> Response {
    match err {
        StoreError::NotFound(_) | StoreError::Forbidden(_) => {
            not_found_page(locale, Some(user), jar, state)
        }
        other => super::error_page(locale, other.into()),
    }
}

/// A refusal the user can act on (a full bed, a step already taken), with its reason.
fn problem(
    state: &AppState,
    locale: Locale,
    user: &User,
    jar: CookieJar,
    status: StatusCode,
    message: String,
) -> Response {
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(user), csrf, Section::Referrals.path());
    let page = super::MessagePage {
        heading: shell.t.get("error-generic-title"),
        message: shell.t.with("referral-error", "message", &message),
        shell,
    };
    (status, jar, render(&page)).into_response()
}

/// A store error as a sentence for a form.
fn form_error(t: &Translator, err: StoreError) -> Result<String, StoreError> {
    match err {
        StoreError::Invalid(v) => Ok(t.with("referral-error", "message", &v.to_string())),
        StoreError::Conflict(m) | StoreError::Forbidden(m) => {
            Ok(t.with("referral-error", "message", &m))
        }
        other => Err(other),
    }
}

pub fn service_name(t: &Translator, service: PartnerService) -> String {
    t.get(&format!("partner-service-{}", service.as_str()))
}

fn need_name(t: &Translator, need: Need) -> String {
    match need {
        Need::Placement => t.get("referral-need-placement"),
        Need::Service(s) => service_name(t, s),
    }
}

fn ages(t: &Translator, min: Option<u8>, max: Option<u8>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{min}–{max}"),
        (Some(min), None) => format!("{min}+"),
        (None, Some(max)) => format!("≤ {max}"),
        (None, None) => t.get("partner-ages-any"),
    }
}

/// A match reason in the reader's language.
pub fn reason_text(t: &Translator, reason: &Reason) -> String {
    let key = format!("referral-reason-{}", reason.code());
    let args: Vec<(&'static str, String)> = match reason {
        Reason::AgreementNotActive { agreement } => vec![(
            "agreement",
            t.get(&format!("partner-agreement-{}", agreement.as_str())),
        )],
        Reason::SexNotAccepted { sex } => {
            vec![("sex", t.get(&format!("partner-sex-{}", sex.as_str())))]
        }
        Reason::ServiceNotProvided { service } | Reason::ProvidesService { service } => {
            vec![("service", service_name(t, *service))]
        }
        Reason::ServesAges { min_age, max_age } => vec![("ages", ages(t, *min_age, *max_age))],
        other => other.args(),
    };
    t.with_args(&key, &args)
}

fn status_name(t: &Translator, status: &str) -> String {
    t.get(&format!("referral-status-{status}"))
}

// ---------------------------------------------------------------------------------------
// Directory.

struct DirectoryRow {
    name: String,
    services: String,
    ages: String,
    sexes: String,
    languages: String,
    regions: String,
    beds: String,
    near_capacity: bool,
    agreement: String,
    contact: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct DirectoryPage {
    shell: Shell,
    rows: Vec<DirectoryRow>,
}

fn directory_row(t: &Translator, p: &PartnerProfile, contact: String) -> DirectoryRow {
    DirectoryRow {
        name: p.name.clone(),
        services: p
            .services
            .iter()
            .map(|s| service_name(t, *s))
            .collect::<Vec<_>>()
            .join(", "),
        ages: ages(t, p.min_age, p.max_age),
        sexes: if p.sexes.is_empty() {
            t.get("partner-sexes-all")
        } else {
            p.sexes
                .iter()
                .map(|s| t.get(&format!("partner-sex-{}", s.as_str())))
                .collect::<Vec<_>>()
                .join(", ")
        },
        languages: p.languages.join(", "),
        regions: p.regions.join(", "),
        beds: format!("{} / {}", p.occupancy, p.beds),
        near_capacity: p.near_capacity(),
        agreement: t.get(&format!("partner-agreement-{}", p.agreement.as_str())),
        contact,
    }
}

/// `/partners`: the directory with each partner's profile.
pub async fn directory(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !may_open(&caller.user, Section::Partners) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let entries = match partner_profiles::directory(&state.db, &caller.user).await {
        Ok(e) => e,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Partners.path());
    let rows = entries
        .iter()
        .map(|e| {
            let contact = [&e.contact_name, &e.contact_phone, &e.contact_email]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(" · ");
            directory_row(&shell.t, &e.profile, contact)
        })
        .collect();
    (jar, render(&DirectoryPage { shell, rows })).into_response()
}

// ---------------------------------------------------------------------------------------
// Referrals: the list and starting one.

struct ReferralRow {
    id: String,
    reference: String,
    partner: String,
    need: String,
    status: String,
    updated: String,
}

fn referral_row(t: &Translator, r: &Referral) -> ReferralRow {
    ReferralRow {
        id: r.id.to_string(),
        reference: r
            .reference
            .clone()
            .unwrap_or_else(|| t.get("referral-hidden")),
        partner: r.org_name.clone(),
        need: need_name(t, r.need),
        status: status_name(t, r.status.as_str()),
        updated: r.updated_at.format(TIME).to_string(),
    }
}

struct NoteRow {
    text: String,
    at: String,
    link: Option<String>,
    unread: bool,
}

async fn notes(state: &AppState, t: &Translator, user: &User, base: &str) -> Vec<NoteRow> {
    notifications::list(&state.db, user, 10)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|n| {
            let kind = NotificationKind::parse(&n.kind);
            let reference = n.survivor_reference.clone().unwrap_or_default();
            let link = match (kind, n.survivor_id, n.referral_id) {
                (Some(k), Some(survivor), _) if k.about_her_record() => {
                    Some(format!("/survivors/{survivor}"))
                }
                (_, _, Some(referral)) => Some(format!("{base}{referral}")),
                (_, Some(survivor), None) => Some(format!("/survivors/{survivor}")),
                _ => None,
            };
            NoteRow {
                text: t.with_args(
                    notification_key(kind),
                    &[("org", n.org_name.clone()), ("reference", reference)],
                ),
                at: n.created_at.format(TIME).to_string(),
                link,
                unread: n.read_at.is_none(),
            }
        })
        .collect()
}

/// The words for a notification; a kind this version does not know reads as "an update".
fn notification_key(kind: Option<NotificationKind>) -> &'static str {
    match kind {
        Some(NotificationKind::ReferralSent) => "referral-notification-referral-sent",
        Some(NotificationKind::ReferralAccepted) => "referral-notification-referral-accepted",
        Some(NotificationKind::ReferralDeclined) => "referral-notification-referral-declined",
        Some(NotificationKind::ReferralAdmitted) => "referral-notification-referral-admitted",
        Some(NotificationKind::ReferralDischarged) => "referral-notification-referral-discharged",
        Some(NotificationKind::ReferralWithdrawn) => "referral-notification-referral-withdrawn",
        Some(NotificationKind::ReferralService) => "referral-notification-referral-service",
        Some(NotificationKind::ConsentWithdrawn) => "referral-notification-consent-withdrawn",
        Some(NotificationKind::InCareWithoutConsent) => {
            "referral-notification-referral-in_care_without_consent"
        }
        Some(NotificationKind::ConsentWithdrawnInCare) => {
            "referral-notification-referral-consent_withdrawn"
        }
        Some(NotificationKind::IncidentReported) => "referral-notification-incident-reported",
        None => "referral-notification-other",
    }
}

struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    shell: Shell,
    rows: Vec<ReferralRow>,
    survivors: Vec<Choice>,
    needs: Vec<Choice>,
    notes: Vec<NoteRow>,
}

fn needs(t: &Translator) -> Vec<Choice> {
    std::iter::once(Need::Placement)
        .chain(PartnerService::ALL.into_iter().map(Need::Service))
        .map(|n| Choice {
            value: n.as_string(),
            label: need_name(t, n),
        })
        .collect()
}

/// `/referrals`: the referrals the user may see and a form to start one. Partner staff see
/// their portal.
pub async fn referrals(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    if is_partner_staff(&caller.user) {
        // Partner staff's referrals are their portal.
        return portal(State(state), headers, caller, jar).await;
    }
    let locale = locale_for(&headers, Some(&caller.user));
    if !may_open(&caller.user, Section::Referrals) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let loaded = async {
        let list = referrals::list(&state.db, &caller.user, &ListFilter::default(), 100).await?;
        let survivors = haven_store::survivors::list(&state.db, &caller.user, None, 200).await?;
        Ok::<_, StoreError>((list, survivors))
    }
    .await;
    let (list, survivors) = match loaded {
        Ok(found) => found,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Referrals.path());
    let page = ReferralsPage {
        rows: list.iter().map(|r| referral_row(&shell.t, r)).collect(),
        survivors: survivors
            .into_iter()
            .filter(|s| !s.erased)
            .map(|s| Choice {
                value: s.id.to_string(),
                label: s.reference,
            })
            .collect(),
        needs: needs(&shell.t),
        notes: notes(&state, &shell.t, &caller.user, "/referrals/").await,
        shell,
    };
    (jar, render(&page)).into_response()
}

#[derive(Deserialize)]
pub struct MatchQuery {
    survivor: String,
    #[serde(default)]
    need: String,
}

struct CandidateRow {
    rank: usize,
    name: String,
    refer: String,
    reasons: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "referral_match.html")]
struct MatchPage {
    shell: Shell,
    heading: String,
    need: String,
    eligible: Vec<CandidateRow>,
    excluded: Vec<CandidateRow>,
}

fn candidate_row(
    t: &Translator,
    rank: usize,
    c: &Candidate,
    survivor: &str,
    need: Need,
) -> CandidateRow {
    CandidateRow {
        rank,
        name: c.name.clone(),
        refer: format!(
            "/referrals/new?survivor={survivor}&org={}&need={}",
            c.org,
            need.as_string()
        ),
        reasons: c
            .reasons
            .iter()
            .filter(|r| !c.excluded() || r.excludes())
            .map(|r| (r.code().to_owned(), reason_text(t, r)))
            .collect(),
    }
}

/// `/referrals/match?survivor=&need=`: every partner ranked for her, with reasons.
pub async fn match_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    query: Result<Query<MatchQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Ok(Query(query)) = query else {
        return super::error_page(locale, ApiError::bad_request("survivor is missing"));
    };
    let Ok(survivor) = query.survivor.parse::<SurvivorId>() else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let need = match Need::parse(if query.need.is_empty() {
        "placement"
    } else {
        &query.need
    }) {
        Ok(n) => n,
        Err(e) => return super::error_page(locale, ApiError::bad_request(e.to_string())),
    };
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return super::error_page(locale, e.into()),
    };
    let ranked = referrals::matches(
        &state.db,
        keyring,
        &caller.user,
        &caller.ctx,
        survivor,
        need,
    )
    .await;
    let (_, ranking) = match ranked {
        Ok(r) => r,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let reference = haven_store::survivors::list(&state.db, &caller.user, None, 200)
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.id == survivor)
        .map(|s| s.reference)
        .unwrap_or_default();
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Referrals.path());
    let id = survivor.to_string();
    let page = MatchPage {
        heading: shell
            .t
            .with("referral-match-title", "reference", &reference),
        need: need_name(&shell.t, need),
        eligible: ranking
            .eligible
            .iter()
            .enumerate()
            .map(|(i, c)| candidate_row(&shell.t, i + 1, c, &id, need))
            .collect(),
        excluded: ranking
            .excluded
            .iter()
            .map(|c| candidate_row(&shell.t, 0, c, &id, need))
            .collect(),
        shell,
    };
    (jar, render(&page)).into_response()
}

// ---------------------------------------------------------------------------------------
// Consent and sending.

#[derive(Deserialize)]
pub struct NewQuery {
    survivor: String,
    org: String,
    #[serde(default)]
    need: String,
}

#[derive(Template)]
#[template(path = "referral_consent.html")]
struct ConsentPage {
    shell: Shell,
    heading: String,
    survivor: String,
    org: String,
    need: String,
    need_label: String,
    purpose: String,
    language: String,
    error: Option<String>,
}

async fn consent_page(
    state: &AppState,
    locale: Locale,
    user: &User,
    jar: CookieJar,
    form: &ConsentForm,
    error: Option<String>,
) -> Response {
    let org_name = form
        .org
        .parse::<OrgId>()
        .ok()
        .map(|org| async move { partner_profiles::load(&state.db, org).await.ok() });
    let org_name = match org_name {
        Some(f) => f.await.map(|e| e.profile.name),
        None => None,
    };
    let Some(org_name) = org_name else {
        return not_found_page(locale, Some(user), jar, state);
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(user), csrf, Section::Referrals.path());
    let need = Need::parse(&form.need).unwrap_or(Need::Placement);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ConsentPage {
        heading: shell.t.with("referral-consent-title", "org", &org_name),
        survivor: form.survivor.clone(),
        org: form.org.clone(),
        need: need.as_string(),
        need_label: need_name(&shell.t, need),
        purpose: if form.purpose.is_empty() {
            shell.t.get("referral-consent-purpose-default")
        } else {
            form.purpose.clone()
        },
        language: form.language.clone(),
        error,
        shell,
    };
    (status, jar, render(&page)).into_response()
}

/// `/referrals/new?survivor=&org=&need=`: the consent form for one partner.
pub async fn consent_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    query: Result<Query<NewQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Ok(Query(query)) = query else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let Ok(survivor) = query.survivor.parse::<SurvivorId>() else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    if let Err(err) = haven_store::survivors::ensure_may(
        &state.db,
        &caller.user,
        survivor,
        haven_core::policy::Action::Share,
    )
    .await
    {
        return refused(&state, locale, &caller.user, jar, err);
    }
    let form = ConsentForm {
        survivor: query.survivor,
        org: query.org,
        need: query.need,
        ..ConsentForm::default()
    };
    consent_page(&state, locale, &caller.user, jar, &form, None).await
}

#[derive(Deserialize, Default)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    survivor: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    need: String,
    class_identity: Option<String>,
    class_contact: Option<String>,
    class_psychosocial: Option<String>,
    class_legal_statement: Option<String>,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    cosigner_role: String,
    #[serde(default)]
    cosigner_name: String,
}

/// Records her consent and sends the referral in one step, then shows the referral.
pub async fn consent_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<ConsentForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let locale = locale_for(&headers, Some(&caller.user));
    let t = Translator::new(locale);
    let (Ok(survivor), Ok(org)) = (
        form.survivor.parse::<SurvivorId>(),
        form.org.parse::<OrgId>(),
    ) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return super::error_page(locale, e.into()),
    };
    let result = async {
        let need = Need::parse(&form.need)?;
        let classes: Vec<FieldClass> = [
            (&form.class_identity, FieldClass::Identity),
            (&form.class_contact, FieldClass::Contact),
            (&form.class_psychosocial, FieldClass::Psychosocial),
            (&form.class_legal_statement, FieldClass::LegalStatement),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, c)| c)
        .collect();
        let cosigner = match form.cosigner_role.trim() {
            "" => None,
            role => Some((CosignerRole::parse(role)?, form.cosigner_name.clone())),
        };
        let input = ConsentInput {
            org,
            classes,
            purpose: form.purpose.clone(),
            language: form.language.clone(),
            explained_by: None,
            cosigner,
        };
        // One transaction: a refusal leaves no referral, consent or notification behind.
        referrals::refer_with_consent(
            &state.db,
            keyring,
            &caller.user,
            &caller.ctx,
            survivor,
            org,
            need,
            &input,
        )
        .await
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/referrals/{id}")).into_response(),
        Err(err) => match form_error(&t, err) {
            Ok(message) => {
                consent_page(&state, locale, &caller.user, jar, &form, Some(message)).await
            }
            Err(other) => refused(&state, locale, &caller.user, jar, other),
        },
    }
}

// ---------------------------------------------------------------------------------------
// One referral, for the referring side.

struct StepRow {
    status: String,
    detail: String,
    at: String,
    by: String,
}

#[derive(Template)]
#[template(path = "referral_detail.html")]
struct DetailPage {
    shell: Shell,
    heading: String,
    id: String,
    reference: String,
    need: String,
    status: String,
    status_code: String,
    steps: Vec<StepRow>,
    services: Vec<(String, String)>,
    can_withdraw: bool,
    reasons: Vec<Choice>,
    stays: Vec<(String, String, String, String)>,
    /// Her active consents to share with this partner: (id, what, when).
    consents: Vec<(String, String, String)>,
    /// She is admitted there but withdrew her consent: a flag for her caseworker.
    in_care_without_consent: bool,
    /// A refused withdrawal: why, and the words that were typed.
    withdraw_error: String,
    withdraw_reason: String,
}

fn detail_text(t: &Translator, status: &str, detail: &str) -> String {
    if detail.is_empty() {
        return String::new();
    }
    let prefix = match status {
        "declined" => "referral-decline",
        "discharged" => "referral-outcome",
        "withdrawn" => "referral-withdraw",
        _ => return detail.to_owned(),
    };
    t.get(&format!("{prefix}-{detail}"))
}

/// `/referrals/{id}`: a referral's status and history, and where she has lived.
pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    if is_partner_staff(&caller.user) {
        return Redirect::to(&format!("/partner/referrals/{id}")).into_response();
    }
    detail_page(&state, locale, &caller, jar, id, None, StatusCode::OK).await
}

/// The referral page, with a refused consent withdrawal's reason and typed words when given.
async fn detail_page(
    state: &AppState,
    locale: Locale,
    caller: &PageUser,
    jar: CookieJar,
    id: Uuid,
    refused_withdrawal: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let found = match referrals::get(&state.db, &caller.user, &caller.ctx, id).await {
        Ok(d) => d,
        Err(err) => return refused(state, locale, &caller.user, jar, err),
    };
    let stays = referrals::placements(
        &state.db,
        &caller.user,
        &caller.ctx,
        found.referral.survivor_id,
    )
    .await
    .map(|h| h.stays)
    .unwrap_or_default();
    let (consents, withdrawals) = match state.keyring() {
        Ok(keyring) => (
            referrals::consents(
                &state.db,
                keyring,
                &caller.user,
                &caller.ctx,
                found.referral.survivor_id,
            )
            .await
            .unwrap_or_default(),
            referrals::withdrawals(
                &state.db,
                keyring,
                &caller.user,
                &caller.ctx,
                found.referral.survivor_id,
            )
            .await
            .unwrap_or_default(),
        ),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let (jar, csrf) = csrf_token(jar, state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Referrals.path());
    let t = &shell.t;
    let r = &found.referral;
    let page = DetailPage {
        consents: consents
            .iter()
            .filter(|c| c.org_id == r.org_id && c.withdrawn_at.is_none())
            .map(|c| {
                (
                    c.id.to_string(),
                    c.classes
                        .iter()
                        .map(|x| t.get(&format!("referral-class-{}", x.as_str())))
                        .collect::<Vec<_>>()
                        .join("; "),
                    c.given_at.format(TIME).to_string(),
                )
            })
            .collect(),
        heading: t.with("referral-detail-title", "org", &r.org_name),
        id: r.id.to_string(),
        reference: r.reference.clone().unwrap_or_default(),
        need: need_name(t, r.need),
        status: status_name(t, r.status.as_str()),
        status_code: r.status.as_str().to_owned(),
        steps: history(t, &found.steps, &withdrawals, r.org_id),
        in_care_without_consent: found.in_care_without_consent(),
        withdraw_error: refused_withdrawal
            .as_ref()
            .map(|(m, _)| m.clone())
            .unwrap_or_default(),
        withdraw_reason: refused_withdrawal.map(|(_, r)| r).unwrap_or_default(),
        services: found
            .services
            .iter()
            .map(|s| {
                let name = PartnerService::parse(&s.service)
                    .map(|x| service_name(t, x))
                    .unwrap_or_else(|_| s.service.clone());
                (name, s.delivered_on.to_string())
            })
            .collect(),
        can_withdraw: found.side == Side::Referrer
            && matches!(r.status.as_str(), "draft" | "sent" | "accepted"),
        reasons: WithdrawReason::ALL
            .into_iter()
            .map(|w| Choice {
                value: w.as_str().to_owned(),
                label: t.get(&format!("referral-withdraw-{}", w.as_str())),
            })
            .collect(),
        stays: stays
            .iter()
            .map(|s| {
                (
                    s.org_name.clone(),
                    s.admitted_at.format(TIME).to_string(),
                    s.discharged_at
                        .map(|d| d.format(TIME).to_string())
                        .unwrap_or_default(),
                    s.discharge_outcome
                        .as_deref()
                        .map(|o| t.get(&format!("referral-outcome-{o}")))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        shell,
    };
    (status, jar, render(&page)).into_response()
}

/// A referral's steps and the withdrawals of her consent to its partner, in time order; a
/// withdrawal shows how she withdrew, to those who may read it.
fn history(
    t: &Translator,
    steps: &[referrals::ReferralStep],
    withdrawals: &[referrals::Withdrawal],
    org: OrgId,
) -> Vec<StepRow> {
    let mut rows: Vec<(chrono::DateTime<chrono::Utc>, StepRow)> = steps
        .iter()
        .map(|s| {
            (
                s.at,
                StepRow {
                    status: status_name(t, &s.status),
                    detail: detail_text(t, &s.status, &s.detail),
                    at: s.at.format(TIME).to_string(),
                    by: s.by_name.clone().unwrap_or_default(),
                },
            )
        })
        .collect();
    rows.extend(withdrawals.iter().filter(|w| w.org_id == org).map(|w| {
        (
            w.withdrawn_at,
            StepRow {
                status: t.get("referral-consent-withdrawn-step"),
                detail: w.reason.clone().unwrap_or_default(),
                at: w.withdrawn_at.format(TIME).to_string(),
                by: w.withdrawn_by.clone(),
            },
        )
    }));
    rows.sort_by_key(|(at, _)| *at);
    rows.into_iter().map(|(_, row)| row).collect()
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

async fn take_step(
    state: &AppState,
    headers: &HeaderMap,
    caller: &PageUser,
    jar: CookieJar,
    id: &str,
    form: &StepForm,
    back: &str,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(state, headers, jar);
    }
    let locale = locale_for(headers, Some(&caller.user));
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found_page(locale, Some(&caller.user), jar, state);
    };
    let event = match ReferralEvent::parse(&form.action, Some(&form.reason)) {
        Ok(e) => e,
        Err(e) => {
            return problem(
                state,
                locale,
                &caller.user,
                jar,
                StatusCode::BAD_REQUEST,
                e.to_string(),
            )
        }
    };
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return super::error_page(locale, e.into()),
    };
    match referrals::act(&state.db, keyring, &caller.user, &caller.ctx, id, event).await {
        Ok(_) => Redirect::to(&format!("{back}{id}")).into_response(),
        Err(StoreError::Conflict(m)) => {
            problem(state, locale, &caller.user, jar, StatusCode::CONFLICT, m)
        }
        Err(StoreError::Forbidden(m)) => {
            problem(state, locale, &caller.user, jar, StatusCode::FORBIDDEN, m)
        }
        Err(err) => refused(state, locale, &caller.user, jar, err),
    }
}

/// Withdraws a referral (the referring side).
pub async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(mut form): Form<StepForm>,
) -> Response {
    form.action = "withdraw".to_owned();
    take_step(&state, &headers, &caller, jar, &id, &form, "/referrals/").await
}

#[derive(Deserialize)]
pub struct WithdrawConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    /// The box saying the caseworker understands the partner loses her record at once.
    #[serde(default)]
    confirm: String,
}

/// Withdraws her consent to share with the referral's partner, once confirmed and with how she
/// withdrew: the partner loses her record now. A refusal comes back on the referral page with
/// what was typed.
pub async fn withdraw_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path((id, consent)): Path<(String, String)>,
    Form(form): Form<WithdrawConsentForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let locale = locale_for(&headers, Some(&caller.user));
    let (Ok(id), Ok(consent)) = (Uuid::parse_str(&id), Uuid::parse_str(&consent)) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let found = match referrals::get(&state.db, &caller.user, &caller.ctx, id).await {
        Ok(d) => d,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let t = Translator::new(locale);
    if form.confirm != "yes" {
        let message = t.get("referral-consent-withdraw-unconfirmed");
        return detail_page(
            &state,
            locale,
            &caller,
            jar,
            id,
            Some((message, form.reason)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return super::error_page(locale, e.into()),
    };
    match referrals::withdraw_consent(
        &state.db,
        keyring,
        &caller.user,
        &caller.ctx,
        found.referral.survivor_id,
        consent,
        &form.reason,
    )
    .await
    {
        Ok(()) => Redirect::to(&format!("/referrals/{id}")).into_response(),
        Err(StoreError::Invalid(v)) => {
            let message = t.with("referral-error", "message", &v.to_string());
            detail_page(
                &state,
                locale,
                &caller,
                jar,
                id,
                Some((message, form.reason)),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(err) => refused(&state, locale, &caller.user, jar, err),
    }
}

// ---------------------------------------------------------------------------------------
// Dashboard.

#[derive(Template)]
#[template(path = "referral_dashboard.html")]
struct DashboardPage {
    shell: Shell,
    open: Vec<(String, String, i64)>,
    median: String,
    placed: String,
    waiting: String,
    capacity: Vec<(String, String)>,
    declined: Vec<(String, i64)>,
}

/// `/referrals/dashboard`: for aftercare leads.
pub async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let d = match referrals::dashboard(&state.db, &caller.user).await {
        Ok(d) => d,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Referrals.path());
    let t = &shell.t;
    let page = DashboardPage {
        open: d
            .open_by_age_and_status
            .iter()
            .map(|((band, status), n)| (band.clone(), status_name(t, status), *n))
            .collect(),
        median: d
            .median_hours_to_placement()
            .map(|h| t.with("referral-dashboard-median", "hours", &h.to_string()))
            .unwrap_or_default(),
        placed: t.with(
            "referral-dashboard-placed",
            "count",
            &d.hours_to_placement.len().to_string(),
        ),
        waiting: t.with(
            "referral-dashboard-waiting",
            "count",
            &d.waiting_for_placement.to_string(),
        ),
        capacity: d
            .near_capacity
            .iter()
            .map(|(name, free, beds)| {
                (
                    name.clone(),
                    t.with_args(
                        "referral-dashboard-free",
                        &[("free", free.to_string()), ("beds", beds.to_string())],
                    ),
                )
            })
            .collect(),
        declined: d
            .declined_by_reason
            .iter()
            .map(|(reason, n)| (t.get(&format!("referral-decline-{reason}")), *n))
            .collect(),
        shell,
    };
    (jar, render(&page)).into_response()
}

// ---------------------------------------------------------------------------------------
// Partner portal.

#[derive(Template)]
#[template(path = "partner_portal.html")]
struct PortalPage {
    shell: Shell,
    heading: String,
    occupancy: String,
    beds: u32,
    occupied: u32,
    rows: Vec<ReferralRow>,
    notes: Vec<NoteRow>,
}

/// `/partner`: referrals to the partner's own organisation and its beds.
pub async fn portal(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    if !is_partner_staff(&caller.user) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let loaded = async {
        let list = referrals::list(&state.db, &caller.user, &ListFilter::default(), 100).await?;
        let profile = partner_profiles::get(&state.db, &caller.user, caller.user.org_id).await?;
        Ok::<_, StoreError>((list, profile))
    }
    .await;
    let (list, profile) = match loaded {
        Ok(found) => found,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Referrals.path());
    let p = &profile.profile;
    let page = PortalPage {
        heading: shell.t.with("partner-portal-title", "org", &p.name),
        occupancy: shell.t.with_args(
            "partner-occupancy-now",
            &[
                ("occupied", p.occupancy.to_string()),
                ("beds", p.beds.to_string()),
            ],
        ),
        beds: p.beds,
        occupied: p.occupancy,
        rows: list.iter().map(|r| referral_row(&shell.t, r)).collect(),
        notes: notes(&state, &shell.t, &caller.user, "/partner/referrals/").await,
        shell,
    };
    (jar, render(&page)).into_response()
}

#[derive(Deserialize)]
pub struct OccupancyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    beds: String,
    #[serde(default)]
    occupancy: String,
}

/// Saves the partner's beds and occupancy.
pub async fn occupancy(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Form(form): Form<OccupancyForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let locale = locale_for(&headers, Some(&caller.user));
    let (Ok(beds), Ok(occupied)) = (
        form.beds.trim().parse::<u32>(),
        form.occupancy.trim().parse::<u32>(),
    ) else {
        return problem(
            &state,
            locale,
            &caller.user,
            jar,
            StatusCode::BAD_REQUEST,
            "beds and occupancy must be whole numbers".to_owned(),
        );
    };
    match partner_profiles::set_occupancy(
        &state.db,
        &caller.user,
        &caller.ctx,
        caller.user.org_id,
        beds,
        occupied,
    )
    .await
    {
        Ok(()) => Redirect::to("/partner").into_response(),
        Err(StoreError::Invalid(v)) => problem(
            &state,
            locale,
            &caller.user,
            jar,
            StatusCode::BAD_REQUEST,
            v.to_string(),
        ),
        Err(err) => refused(&state, locale, &caller.user, jar, err),
    }
}

#[derive(Template)]
#[template(path = "partner_referral.html")]
struct PortalReferralPage {
    shell: Shell,
    heading: String,
    id: String,
    reference: String,
    need: String,
    status: String,
    status_code: String,
    fields: Vec<(String, String)>,
    shared: bool,
    steps: Vec<StepRow>,
    services: Vec<(String, String)>,
    declines: Vec<Choice>,
    outcomes: Vec<Choice>,
    service_choices: Vec<Choice>,
    today: String,
}

/// `/partner/referrals/{id}`: one referral to the partner, with only the fields she agreed to
/// share, and the partner's next steps.
pub async fn portal_referral(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    let locale = locale_for(&headers, Some(&caller.user));
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    if !is_partner_staff(&caller.user) {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    }
    let found = match referrals::get(&state.db, &caller.user, &caller.ctx, id).await {
        Ok(d) => d,
        Err(err) => return refused(&state, locale, &caller.user, jar, err),
    };
    let keyring = match state.keyring() {
        Ok(k) => k,
        Err(e) => return super::error_page(locale, e.into()),
    };
    // Only what the policy lets her organisation read; nothing once consent is withdrawn.
    let view = haven_store::survivors::read(
        &state.db,
        keyring,
        &caller.user,
        &caller.ctx,
        found.referral.survivor_id,
    )
    .await
    .ok();
    let (jar, csrf) = csrf_token(jar, &state);
    let shell = Shell::new(locale, Some(&caller.user), csrf, Section::Referrals.path());
    let t = &shell.t;
    let r = &found.referral;
    let page = PortalReferralPage {
        heading: t.with("referral-detail-title", "org", &r.org_name),
        id: r.id.to_string(),
        reference: r
            .reference
            .clone()
            .unwrap_or_else(|| t.get("referral-hidden")),
        need: need_name(t, r.need),
        status: status_name(t, r.status.as_str()),
        status_code: r.status.as_str().to_owned(),
        shared: view.is_some(),
        fields: view
            .map(|v| {
                v.fields
                    .into_iter()
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(f, value)| (t.get(&format!("referral-field-{}", f.as_str())), value))
                    .collect()
            })
            .unwrap_or_default(),
        steps: found
            .steps
            .iter()
            .map(|s| StepRow {
                status: status_name(t, &s.status),
                detail: detail_text(t, &s.status, &s.detail),
                at: s.at.format(TIME).to_string(),
                by: s.by_name.clone().unwrap_or_default(),
            })
            .collect(),
        services: found
            .services
            .iter()
            .map(|s| {
                let name = PartnerService::parse(&s.service)
                    .map(|x| service_name(t, x))
                    .unwrap_or_else(|_| s.service.clone());
                (name, s.delivered_on.to_string())
            })
            .collect(),
        declines: DeclineReason::ALL
            .into_iter()
            .map(|d| Choice {
                value: d.as_str().to_owned(),
                label: t.get(&format!("referral-decline-{}", d.as_str())),
            })
            .collect(),
        outcomes: DischargeOutcome::ALL
            .into_iter()
            .map(|o| Choice {
                value: o.as_str().to_owned(),
                label: t.get(&format!("referral-outcome-{}", o.as_str())),
            })
            .collect(),
        service_choices: PartnerService::ALL
            .into_iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: service_name(t, s),
            })
            .collect(),
        today: state.team_today().to_string(),
        shell,
    };
    (jar, render(&page)).into_response()
}

/// A partner's step on a referral: accept, decline, admit, discharge.
pub async fn portal_step(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Response {
    take_step(
        &state,
        &headers,
        &caller,
        jar,
        &id,
        &form,
        "/partner/referrals/",
    )
    .await
}

#[derive(Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    delivered_on: String,
}

/// Records a service delivered.
pub async fn portal_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: PageUser,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(form): Form<ServiceForm>,
) -> Response {
    if !csrf_ok(&jar, &form.csrf) {
        return super::login::expired_form(&state, &headers, jar);
    }
    let locale = locale_for(&headers, Some(&caller.user));
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found_page(locale, Some(&caller.user), jar, &state);
    };
    let parsed = PartnerService::parse(&form.service)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            chrono::NaiveDate::parse_from_str(form.delivered_on.trim(), "%Y-%m-%d")
                .map(|d| (s, d))
                .map_err(|_| "delivered_on: must be a date written as YYYY-MM-DD".to_owned())
        });
    let (service, on) = match parsed {
        Ok(p) => p,
        Err(m) => {
            return problem(
                &state,
                locale,
                &caller.user,
                jar,
                StatusCode::BAD_REQUEST,
                m,
            )
        }
    };
    match referrals::record_service(&state.db, &caller.user, &caller.ctx, id, service, on).await {
        Ok(()) => Redirect::to(&format!("/partner/referrals/{id}")).into_response(),
        Err(StoreError::Conflict(m)) => {
            problem(&state, locale, &caller.user, jar, StatusCode::CONFLICT, m)
        }
        Err(StoreError::Invalid(v)) => problem(
            &state,
            locale,
            &caller.user,
            jar,
            StatusCode::BAD_REQUEST,
            v.to_string(),
        ),
        Err(err) => refused(&state, locale, &caller.user, jar, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification never shows a raw key: every kind the store can write has words in
    /// every language, and one it does not know reads as an update.
    #[test]
    fn every_notification_kind_has_words_in_every_language() {
        let mut kinds: Vec<Option<NotificationKind>> =
            NotificationKind::ALL.into_iter().map(Some).collect();
        kinds.push(None);
        for locale in haven_core::Locale::ALL {
            let t = Translator::new(locale);
            for kind in &kinds {
                let key = notification_key(*kind);
                let text = t.with_args(
                    key,
                    &[
                        ("org", "World Hope".into()),
                        ("reference", "PP-2026-001".into()),
                    ],
                );
                assert_ne!(text, key, "{locale:?} has no words for {kind:?}");
                assert!(!text.contains("referral-notification"), "{text}");
            }
        }
        let incident = Translator::new(haven_core::Locale::En).with_args(
            notification_key(Some(NotificationKind::IncidentReported)),
            &[("org", String::new()), ("reference", "PP-2026-001".into())],
        );
        assert!(incident.contains("PP-2026-001"), "{incident}");
    }
}
