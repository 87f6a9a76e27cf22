//! Case management in a real headless Chromium: her caseworker (interface in Khmer) opens
//! PP-2026-001 from her caseload, writes the plan over two areas, logs a service, schedules a
//! review and sees the overdue contact on her caseload; the manager moves her to another
//! caseworker, whose caseload then lists her.

use crate::browser::{open_browser, sign_in, start_driver, Screen};
use crate::support::TestApp;
use fantoccini::{Client, Locator};
use haven_store::testing::TestDb;
use haven_store::testing_referrals::survivor_id;
use std::time::Duration;

async fn wait_for(
    browser: &Client,
    css: &str,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
}

/// Sets a date input (typing into one depends on the browser's locale).
async fn set_date(
    browser: &Client,
    id: &str,
    value: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(id), serde_json::json!(value)],
        )
        .await?;
    Ok(())
}

/// Waits until the form came back with the confirmation `saved` (the page before it may
/// still show an older confirmation).
async fn wait_saved(browser: &Client, saved: &str) -> Result<(), fantoccini::error::CmdError> {
    let wanted = format!("saved={saved}");
    for _ in 0..100 {
        if browser.current_url().await?.as_str().contains(&wanted) {
            wait_for(browser, "#notice.saved").await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the form did not come back with {wanted}");
}

async fn type_into(
    browser: &Client,
    id: &str,
    text: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser.find(Locator::Id(id)).await?.send_keys(text).await
}

async fn sign_out(browser: &Client) -> Result<(), fantoccini::error::CmdError> {
    browser
        .find(Locator::Css(".account button"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#login-submit").await?;
    Ok(())
}

async fn user_id(app: &TestApp, username: &str) -> String {
    haven_store::users::find_by_username(
        &app.db.db,
        &haven_core::Username::parse(username).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .id
    .to_string()
}

#[tokio::test]
async fn a_caseworker_plans_her_care_and_the_manager_moves_her() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let app = &app;
    let (browser, _profile) = open_browser(&driver, &chromium, Screen::Window(412, 915)).await;
    let s1 = survivor_id(&app.db.db, "PP-2026-001").await.to_string();
    let aftercare = user_id(app, "aftercare").await;
    let aftercare2 = user_id(app, "aftercare2").await;
    let today = haven_store::clock::now().date_naive();
    let target = (today + chrono::Duration::days(90)).to_string();
    let review = (today + chrono::Duration::days(7)).to_string();

    let result = async {
        // Her caseworker opens PP-2026-001 from her caseload.
        sign_in(&browser, app, "aftercare").await?;
        browser.goto(&app.url("/survivors")).await?;
        wait_for(&browser, "#case-PP-2026-001 a.case-link")
            .await?
            .click()
            .await?;
        let name = wait_for(&browser, "#her-name").await?.text().await?;
        assert_eq!(name, "Nguyễn Thị Hoa");
        wait_for(&browser, "#no-plan").await?;

        // Her plan: education and livelihood, and psychosocial support, each with a goal.
        browser
            .find(Locator::Id("economic_status"))
            .await?
            .select_by_value("in_progress")
            .await?;
        type_into(&browser, "economic_needs", "Wants to earn her own money").await?;
        type_into(
            &browser,
            "economic_goal1_text",
            "Enrol in a tailoring course",
        )
        .await?;
        set_date(&browser, "economic_goal1_target", &target).await?;
        type_into(&browser, "economic_her_words", "I want my own shop").await?;
        browser
            .find(Locator::Id("psychosocial_status"))
            .await?
            .select_by_value("in_progress")
            .await?;
        type_into(&browser, "psychosocial_goal1_text", "Weekly counselling").await?;
        set_date(&browser, "psychosocial_goal1_target", &target).await?;
        browser
            .find(Locator::Id("plan-submit"))
            .await?
            .click()
            .await?;
        wait_for(&browser, "#notice.saved").await?;
        let economic = wait_for(&browser, "#area-economic").await?.text().await?;
        assert!(
            economic.contains("Enrol in a tailoring course"),
            "{economic}"
        );
        assert!(economic.contains("I want my own shop"), "{economic}");
        let psychosocial = browser
            .find(Locator::Id("area-psychosocial"))
            .await?
            .text()
            .await?;
        assert!(
            psychosocial.contains("Weekly counselling"),
            "{psychosocial}"
        );

        // A counselling session.
        browser
            .find(Locator::Id("service-kind"))
            .await?
            .select_by_value("counselling")
            .await?;
        type_into(&browser, "outcome", "First session, she talked about home").await?;
        browser
            .find(Locator::Id("service-submit"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "service").await?;
        let services = browser
            .find(Locator::Id("service-list"))
            .await?
            .text()
            .await?;
        assert!(services.contains("First session"), "{services}");

        // A plan review in a week.
        browser
            .find(Locator::Id("follow-kind"))
            .await?
            .select_by_value("review")
            .await?;
        set_date(&browser, "due_on", &review).await?;
        browser
            .find(Locator::Id("follow-submit"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "follow-up").await?;
        let follow_ups = browser
            .find(Locator::Id("follow-ups"))
            .await?
            .text()
            .await?;
        assert!(follow_ups.contains(&review), "{follow_ups}");

        // Her caseload shows the contact that is overdue.
        browser.goto(&app.url("/survivors")).await?;
        let row = wait_for(&browser, "#case-PP-2026-001").await?;
        assert_eq!(row.attr("data-overdue").await?.as_deref(), Some("1"));
        row.find(Locator::Css(".overdue")).await?;
        sign_out(&browser).await?;

        // The manager moves her to aftercare2.
        sign_in(&browser, app, "manager").await?;
        browser.goto(&app.url("/survivors")).await?;
        wait_for(
            &browser,
            &format!("a.worker-link[href='/survivors?worker={aftercare}']"),
        )
        .await?
        .click()
        .await?;
        wait_for(&browser, &format!("#to-{s1}"))
            .await?
            .select_by_value(&aftercare2)
            .await?;
        browser
            .find(Locator::Id("reassign-PP-2026-001"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "reassigned").await?;
        sign_out(&browser).await?;

        // Her new caseworker's caseload lists her.
        sign_in(&browser, app, "aftercare2").await?;
        browser.goto(&app.url("/survivors")).await?;
        wait_for(&browser, "#case-PP-2026-001").await?;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("browser steps");
}
