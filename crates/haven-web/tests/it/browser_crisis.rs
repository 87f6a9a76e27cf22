//! The first 48 hours in a real headless Chromium on a phone-sized window: an aftercare worker
//! records an intervention, takes three girls in, sets the roster, logs contacts and a care
//! package, sees the roster gap and the 48-hour alert, and places each girl.
//!
//! The worker's pages are in her own language (Khmer for the demo `aftercare` user), so the
//! test finds things by ID and data attributes, and checks state rather than wording.

use crate::browser::{open_browser, sign_in, start_driver};
use crate::support::TestApp;
use chrono::{Duration as Span, FixedOffset, Utc};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use haven_store::testing::TestDb;
use serde_json::json;
use std::time::Duration;

/// A `datetime-local` value `hours` from now, in Cambodian time (the pages' default offset).
pub(crate) fn local_input(hours: i64) -> String {
    let offset = FixedOffset::east_opt(7 * 3600).unwrap();
    (Utc::now() + Span::hours(hours))
        .with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Sets a form field's value the way a date picker would.
async fn set_value(browser: &Client, id: &str, value: &str) -> Result<(), CmdError> {
    browser
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await?;
    Ok(())
}

async fn type_into(browser: &Client, id: &str, text: &str) -> Result<(), CmdError> {
    browser.find(Locator::Id(id)).await?.send_keys(text).await
}

async fn click_and_wait(
    browser: &Client,
    element: Element,
    wait_for: Locator<'_>,
) -> Result<(), CmdError> {
    // Mark the page we leave, so the wait below only succeeds on the next one.
    browser
        .execute("document.body.dataset.left = 'yes';", vec![])
        .await?;
    element.click().await?;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("body:not([data-left])"))
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(wait_for)
        .await?;
    Ok(())
}

/// The girls' cards on the station page.
async fn girls(browser: &Client) -> Result<Vec<Element>, CmdError> {
    browser.find_all(Locator::Css("article.girl")).await
}

#[tokio::test]
async fn an_aftercare_worker_lives_the_first_48_hours_on_a_phone() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    // The partner's ID, for the placement form's select.
    let token = app.token("aftercare").await;
    let orgs: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/organisations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let world_hope = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "World Hope International")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (browser, _profile) =
        open_browser(&driver, &chromium, crate::browser::Screen::Phone(360, 740)).await;

    let result = async {
        sign_in(&browser, &app, "aftercare").await?;
        // 1. The intervention, 47 hours ago.
        browser.goto(&app.url("/interventions")).await?;
        set_value(&browser, "occurred_at", &local_input(-47)).await?;
        type_into(&browser, "area", "Svay Pak").await?;
        type_into(&browser, "venue_name", "Blue Moon Karaoke").await?;
        browser
            .find(Locator::Id("venue_type"))
            .await?
            .select_by_value("karaoke_bar")
            .await?;
        type_into(&browser, "police_unit", "AHTJP Phnom Penh").await?;
        let create = browser.find(Locator::Id("create-intervention")).await?;
        click_and_wait(&browser, create, Locator::Id("intake-form")).await?;
        let intervention_url = browser.current_url().await?.to_string();

        // 2. The roster: day shifts with a gap in the coming night.
        for (from, to) in [(-2, 6), (10, 20)] {
            set_value(&browser, "starts_at", &local_input(from)).await?;
            set_value(&browser, "ends_at", &local_input(to)).await?;
            let add = browser.find(Locator::Id("add-shift")).await?;
            click_and_wait(&browser, add, Locator::Id("intake-form")).await?;
        }
        // Within the covered day only the night is red (the hours after it are open too).
        let hours = browser.find_all(Locator::Css("ol.hours li")).await?;
        let mut red = 0;
        for hour in hours.iter().take(20) {
            if hour
                .attr("class")
                .await?
                .unwrap_or_default()
                .contains("gap")
            {
                red += 1;
            }
        }
        assert!(
            (4..=5).contains(&red),
            "the night gap is shown in red: {red} hours"
        );

        // 3. Three girls: a 14-year-old who speaks only Vietnamese, a 16-year-old by estimate,
        // an adult; rescued 46, 20 and 2 hours ago.
        let girls_in = [
            ("TMP-B1", -46, "Hoa", "14", "", "vi"),
            ("TMP-B2", -20, "", "", "16", "km"),
            ("TMP-B3", -2, "Srey", "23", "", "km"),
        ];
        for (reference, rescued, name, age, estimate, languages) in girls_in {
            browser.goto(&intervention_url).await?;
            type_into(&browser, "reference", reference).await?;
            set_value(&browser, "rescued_at", &local_input(rescued)).await?;
            if !name.is_empty() {
                type_into(&browser, "name", name).await?;
            }
            if !age.is_empty() {
                type_into(&browser, "stated_age", age).await?;
            }
            if !estimate.is_empty() {
                type_into(&browser, "estimated_age", estimate).await?;
            }
            type_into(&browser, "languages", languages).await?;
            let submit = browser.find(Locator::Id("intake-submit")).await?;
            click_and_wait(&browser, submit, Locator::Css("p.saved")).await?;
        }
        // On the station page now: three cards, the first near her 48 hours.
        let cards = girls(&browser).await?;
        assert_eq!(cards.len(), 3);
        let first = cards[0].text().await?;
        assert!(first.contains("TMP-B1") && first.contains("Hoa"), "{first}");
        assert!(first.contains("46"), "her clock shows 46 hours: {first}");
        let class = cards[0].attr("class").await?.unwrap_or_default();
        assert!(class.contains("clock-due"), "{class}");

        // 4. A contact for each girl, a care package for the first.
        for index in 0..3 {
            let card = &girls(&browser).await?[index];
            let contact = card
                .find(Locator::Css("button[data-action='contact']"))
                .await?;
            click_and_wait(&browser, contact, Locator::Css("p.saved")).await?;
        }
        let card = &girls(&browser).await?[0];
        let package = card
            .find(Locator::Css("button[data-action='care-package']"))
            .await?;
        click_and_wait(&browser, package, Locator::Css("p.saved")).await?;
        // The page fits the phone: nothing to scroll sideways.
        let width = browser
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await?;
        let viewport = browser.execute("return window.innerWidth;", vec![]).await?;
        assert_eq!(viewport.as_u64(), Some(360), "a phone-sized screen");
        assert!(width.as_u64().unwrap() <= 360, "page is {width} px wide");

        // 5. The alerts: her 48 hours, and the roster gap.
        browser.goto(&app.url("/interventions")).await?;
        let alerts = browser.find(Locator::Id("alerts")).await?.text().await?;
        assert!(
            alerts.contains("TMP-B1"),
            "the 48-hour alert names her: {alerts}"
        );
        let roster_alerts = browser
            .find_all(Locator::Css("#alerts a[href$='#roster']"))
            .await?;
        assert!(!roster_alerts.is_empty(), "the roster gap is an alert");

        // 6. Each girl is placed at the assessment centre.
        for reference in ["TMP-B1", "TMP-B2", "TMP-B3"] {
            browser.goto(&format!("{intervention_url}/station")).await?;
            let link = browser.find(Locator::LinkText(reference)).await?;
            click_and_wait(&browser, link, Locator::Id("place-submit")).await?;
            browser
                .find(Locator::Id("partner"))
                .await?
                .select_by_value(&world_hope)
                .await?;
            browser
                .find(Locator::Id("service"))
                .await?
                .select_by_value("assessment_centre")
                .await?;
            let place = browser.find(Locator::Id("place-submit")).await?;
            click_and_wait(&browser, place, Locator::Css("p.saved")).await?;
        }
        browser.goto(&format!("{intervention_url}/station")).await?;
        let placed = browser
            .find_all(Locator::Css("article.girl.clock-placed"))
            .await?;
        assert_eq!(placed.len(), 3, "every girl is placed");
        browser.goto(&app.url("/interventions")).await?;
        let alerts = browser.find(Locator::Id("alerts")).await?.text().await?;
        assert!(
            !alerts.contains("TMP-B"),
            "no alert about a placed girl: {alerts}"
        );
        Ok::<(), CmdError>(())
    }
    .await;
    if result.is_err() {
        if let Ok(html) = browser.source().await {
            eprintln!("page at failure:\n{html}");
        }
    }
    let _ = browser.close().await;
    result.expect("browser steps");
    app.stop().await;
}
