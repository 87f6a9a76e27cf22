//! The referral story in a real headless Chromium: a caseworker refers a 14-year-old
//! Vietnamese girl, sees the assessment centre ranked first with its reasons, records her
//! consent and sends; the centre's staff see only what she agreed to share, accept and admit
//! her, and their occupancy changes; then she withdraws her consent, her caseworker confirms
//! it with how she withdrew, and the centre keeps only her reference and dates.

use crate::browser::start_driver;
use crate::referrals::Session;
use fantoccini::{Client, Locator};
use haven_store::testing::TestDb;
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

#[tokio::test]
async fn a_caseworker_refers_a_girl_and_the_assessment_centre_admits_her() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let s = Session::new(TestDb::sqlite().await).await;
    let app = &s.app;
    let (browser, _profile) =
        crate::browser::open_browser(&driver, &chromium, crate::browser::Screen::Window(412, 915))
            .await;
    let survivor = s.ids["S1"].clone();

    let result = async {
        // The caseworker (her interface is in Khmer) starts a referral for PP-2026-001.
        crate::browser::sign_in(&browser, app, "aftercare").await?;
        browser.goto(&app.url("/referrals")).await?;
        browser
            .find(Locator::Id("survivor"))
            .await?
            .select_by_value(&survivor)
            .await?;
        browser
            .find(Locator::Id("need"))
            .await?
            .select_by_value("placement")
            .await?;
        browser
            .find(Locator::Id("find-partners"))
            .await?
            .click()
            .await?;
        let first = wait_for(&browser, "#candidate-1").await?;
        let name = first
            .find(Locator::Css(".candidate-name"))
            .await?
            .text()
            .await?;
        assert_eq!(name, "World Hope International");
        first
            .find(Locator::Css("li[data-code='assessment_centre_first']"))
            .await?;
        first
            .find(Locator::Css("li[data-code='serves_minors']"))
            .await?;
        first
            .find(Locator::Css("li[data-code='beds_free']"))
            .await?;
        let reasons = first.text().await?;
        assert!(
            reasons.contains("មជ្ឈមណ្ឌលវាយតម្លៃ"),
            "reasons are in Khmer: {reasons}"
        );
        let second = browser.find(Locator::Id("candidate-2")).await?;
        assert_eq!(
            second
                .find(Locator::Css(".candidate-name"))
                .await?
                .text()
                .await?,
            "World Vision"
        );
        second
            .find(Locator::Css("li[data-code='speaks_language']"))
            .await?;

        // Her consent, co-signed by a social-affairs officer because she is a minor.
        browser.find(Locator::Id("refer-1")).await?.click().await?;
        wait_for(&browser, "#consent-form").await?;
        browser
            .find(Locator::Id("language"))
            .await?
            .send_keys("vi")
            .await?;
        browser
            .find(Locator::Id("cosigner-role"))
            .await?
            .select_by_value("social_affairs_officer")
            .await?;
        browser
            .find(Locator::Id("cosigner-name"))
            .await?
            .send_keys("Chhay Vuthy")
            .await?;
        browser
            .find(Locator::Id("consent-submit"))
            .await?
            .click()
            .await?;
        let status = wait_for(&browser, "#referral-status").await?;
        assert_eq!(status.attr("data-status").await?.as_deref(), Some("sent"));
        browser
            .find(Locator::Css(".account button"))
            .await?
            .click()
            .await?;
        wait_for(&browser, "#login-submit").await?;

        // The assessment centre's staff member.
        crate::browser::sign_in(&browser, app, "partner-worldhope").await?;
        browser.goto(&app.url("/partner")).await?;
        let occupancy = wait_for(&browser, "#occupancy").await?;
        assert_eq!(occupancy.attr("data-occupied").await?.as_deref(), Some("9"));
        browser
            .find(Locator::Css("a.open-referral"))
            .await?
            .click()
            .await?;
        let shared = wait_for(&browser, "#shared-fields").await?.text().await?;
        assert!(shared.contains("Nguyễn Thị Hoa"), "{shared}");
        for secret in ["STI", "HIV", "Frightened", "neighbour"] {
            assert!(
                !shared.contains(secret),
                "{secret} must not be shared: {shared}"
            );
        }
        browser.find(Locator::Id("accept")).await?.click().await?;
        wait_for(&browser, "#referral-status[data-status='accepted']").await?;
        browser.find(Locator::Id("admit")).await?.click().await?;
        wait_for(&browser, "#referral-status[data-status='admitted']").await?;
        let referral_page = browser.current_url().await?;
        let referral = referral_page
            .path_segments()
            .and_then(|mut p| p.next_back())
            .unwrap_or_default()
            .to_owned();
        browser.goto(&app.url("/partner")).await?;
        let occupancy = wait_for(&browser, "#occupancy").await?;
        assert_eq!(
            occupancy.attr("data-occupied").await?.as_deref(),
            Some("10")
        );
        browser
            .find(Locator::Css(".account button"))
            .await?
            .click()
            .await?;
        wait_for(&browser, "#login-submit").await?;

        // She withdraws her consent: her caseworker confirms, says how, and sees the flag.
        crate::browser::sign_in(&browser, app, "aftercare").await?;
        browser
            .goto(&app.url(&format!("/referrals/{referral}")))
            .await?;
        wait_for(&browser, "#withdraw-consent-form").await?;
        browser
            .find(Locator::Id("withdraw-reason"))
            .await?
            .send_keys("She asked at the centre that her file no longer be shared")
            .await?;
        browser
            .find(Locator::Id("withdraw-confirm"))
            .await?
            .click()
            .await?;
        browser
            .find(Locator::Css("#withdraw-consent-form button[type='submit']"))
            .await?
            .click()
            .await?;
        wait_for(&browser, "#in-care-without-consent").await?;
        let history = wait_for(&browser, "#referral-history")
            .await?
            .text()
            .await?;
        assert!(history.contains("no longer be shared"), "{history}");
        browser
            .find(Locator::Css(".account button"))
            .await?
            .click()
            .await?;
        wait_for(&browser, "#login-submit").await?;

        // The centre keeps her reference and dates, and nothing of her record.
        crate::browser::sign_in(&browser, app, "partner-worldhope").await?;
        browser.goto(referral_page.as_str()).await?;
        wait_for(&browser, "#consent-withdrawn").await?;
        let page = browser.source().await?;
        assert!(page.contains("PP-2026-001"));
        assert!(!page.contains("Nguyễn Thị Hoa") && !page.contains("Châu Đốc"));
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("browser steps");
}
