//! A lawyer in a real headless Chromium: opens the demo case, uploads a photo, hands it to an
//! investigator, prepares the court bundle, and every hash in the bundle's manifest is
//! re-verified against the files themselves.

use crate::browser::start_driver;
use crate::legal::{hex, PNG};
use crate::support::TestApp;
use fantoccini::Locator;
use haven_store::testing::TestDb;
use sha2::{Digest, Sha256};
use std::time::Duration;

#[tokio::test]
async fn a_lawyer_uploads_evidence_hands_it_on_and_bundles_it() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let token = app.token("legal").await;
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("ledger-photo.png");
    let mut photo_bytes = PNG.to_vec();
    photo_bytes.extend((0..50_000u32).map(|i| (i % 7) as u8));
    std::fs::write(&photo, &photo_bytes).unwrap();
    let (browser, _profile) =
        crate::browser::open_browser(&driver, &chromium, crate::browser::Screen::Window(412, 915))
            .await;
    let title = "Ledger photo from the browser";
    let result = async {
        crate::browser::sign_in(&browser, &app, "legal").await?;
        browser.goto(&app.url("/legal")).await?;
        browser
            .find(Locator::Css("a.case-link"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("upload-form"))
            .await?;
        let heading = browser.find(Locator::Css("main h1")).await?.text().await?;
        assert!(heading.starts_with("LC-2026-001"), "{heading}");

        browser
            .find(Locator::Id("u-kind"))
            .await?
            .select_by_value("photo")
            .await?;
        browser
            .find(Locator::Id("u-title"))
            .await?
            .send_keys(title)
            .await?;
        browser
            .find(Locator::Id("u-by"))
            .await?
            .send_keys("Police officer Sok Pisey")
            .await?;
        browser
            .find(Locator::Id("u-where"))
            .await?
            .send_keys("Bar office, Phnom Penh")
            .await?;
        browser
            .find(Locator::Id("u-how"))
            .await?
            .send_keys("Police camera, original file")
            .await?;
        browser
            .find(Locator::Id("u-file"))
            .await?
            .send_keys(&photo.display().to_string())
            .await?;
        browser
            .find(Locator::Id("upload-submit"))
            .await?
            .click()
            .await?;
        let notice = browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("form-notice"))
            .await?
            .text()
            .await?;
        let expected_sha = hex(&Sha256::digest(&photo_bytes));
        assert!(notice.contains(&expected_sha), "{notice}");

        let article = format!("//article[h3[text()='{title}']]");
        browser
            .find(Locator::XPath(&format!("{article}//select[@name='to']")))
            .await?
            .select_by_value("investigator")
            .await?;
        browser
            .find(Locator::XPath(&format!("{article}//input[@name='reason']")))
            .await?
            .send_keys("Forensic copy for the judicial police")
            .await?;
        browser
            .find(Locator::XPath(&format!(
                "{article}//form[contains(@class,'transfer')]//button"
            )))
            .await?
            .click()
            .await?;
        let holder = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&format!(
                "{article}//strong[@class='holder' and text()='Rithy Chea']"
            )))
            .await?
            .text()
            .await?;
        assert_eq!(holder, "Rithy Chea");

        browser
            .find(Locator::Id("bundle-submit"))
            .await?
            .click()
            .await?;
        let manifest = browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("bundle-manifest"))
            .await?
            .text()
            .await?;
        Ok::<String, fantoccini::error::CmdError>(manifest)
    }
    .await;
    let _ = browser.close().await;
    let manifest: serde_json::Value =
        serde_json::from_str(&result.expect("browser steps")).expect("the manifest is JSON");
    let items = manifest["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the demo photo and the uploaded one");
    let uploaded = items.iter().find(|i| i["title"] == title).unwrap();
    assert_eq!(uploaded["custody"].as_array().unwrap().len(), 2);
    assert_eq!(uploaded["custody"][1]["to"], "Rithy Chea");
    for item in items {
        let sha = item["sha256"].as_str().unwrap();
        let bytes = app
            .client()
            .get(app.url(&format!(
                "/api/v1/legal/evidence/{}/content",
                item["id"].as_str().unwrap()
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(hex(&Sha256::digest(&bytes)), sha, "{}", item["title"]);
    }
    assert_eq!(
        uploaded["sha256"].as_str().unwrap(),
        hex(&Sha256::digest(&photo_bytes))
    );
    app.stop().await;
}

/// Sets a form field's value the way a date or time picker would, whatever the browser's
/// locale makes of typed keys.
async fn set_value(
    browser: &fantoccini::Client,
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

async fn open_details(
    browser: &fantoccini::Client,
    form: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser
        .execute(
            "document.getElementById(arguments[0]).closest('details').open = true;",
            vec![serde_json::json!(form)],
        )
        .await?;
    Ok(())
}

/// Waits until the browser has landed on the page a form redirected to (`?saved=<form>`):
/// until then the previous page, with its own forms and notices, may still be shown.
async fn wait_saved(
    browser: &fantoccini::Client,
    form: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let wanted = format!("saved={form}");
    for _ in 0..100 {
        if browser.current_url().await?.as_str().contains(&wanted) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the form did not come back with {wanted}");
}

#[tokio::test]
async fn a_lawyer_opens_a_case_and_schedules_a_hearing_through_the_forms() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (browser, _profile) =
        crate::browser::open_browser(&driver, &chromium, crate::browser::Screen::Window(412, 915))
            .await;
    let result = async {
        crate::browser::sign_in(&browser, &app, "legal").await?;
        browser.goto(&app.url("/legal")).await?;
        for (id, value) in [
            ("c-reference", "LC-2026-077"),
            ("c-title", "Recruiter of girls for a Poipet casino"),
            ("c-court", "Banteay Meanchey Provincial Court"),
        ] {
            browser
                .find(Locator::Id(id))
                .await?
                .send_keys(value)
                .await?;
        }
        browser
            .find(Locator::Id("open-submit"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("saved-notice"))
            .await?;
        let heading = browser.find(Locator::Css("main h1")).await?.text().await?;
        assert!(heading.starts_with("LC-2026-077"), "{heading}");

        // The demo case, where her accompaniment is planned with the hearing.
        browser.goto(&app.url("/legal")).await?;
        browser
            .find(Locator::XPath(
                "//a[@class='case-link' and text()='LC-2026-001']",
            ))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("hearing-form"))
            .await?;
        open_details(&browser, "hearing-form").await?;
        set_value(&browser, "h-date", "2026-12-16").await?;
        set_value(&browser, "h-starts", "08:30").await?;
        set_value(&browser, "h-ends", "11:00").await?;
        browser
            .find(Locator::Id("h-room"))
            .await?
            .send_keys("2")
            .await?;
        let survivor = browser.find(Locator::Id("h-survivor")).await?;
        let first = survivor
            .find(Locator::XPath("option[2]"))
            .await?
            .attr("value")
            .await?
            .unwrap_or_default();
        survivor.select_by_value(&first).await?;
        browser
            .find(Locator::Id("h-companions"))
            .await?
            .send_keys("Srey Leak (social worker)")
            .await?;
        browser
            .find(Locator::Id("h-transport"))
            .await?
            .send_keys("Shelter minibus, side entrance")
            .await?;
        browser
            .find(Locator::Id("h-separate"))
            .await?
            .click()
            .await?;
        browser
            .find(Locator::Id("hearing-submit"))
            .await?
            .click()
            .await?;
        let notice = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("saved-notice"))
            .await?
            .text()
            .await?;
        let hearings = browser
            .find(Locator::XPath(
                "//section[@aria-labelledby='hearings-h']/ul",
            ))
            .await?
            .text()
            .await?;
        Ok::<(String, String), fantoccini::error::CmdError>((notice, hearings))
    }
    .await;
    let _ = browser.close().await;
    let (notice, hearings) = result.expect("browser steps");
    assert!(notice.contains("The hearing is scheduled."), "{notice}");
    assert!(
        hearings.contains("Srey Leak (social worker) · Shelter minibus, side entrance"),
        "{hearings}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_lawyer_links_her_adds_a_suspect_and_charges_him_through_the_forms() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (browser, _profile) =
        crate::browser::open_browser(&driver, &chromium, crate::browser::Screen::Window(412, 915))
            .await;
    let result = async {
        crate::browser::sign_in(&browser, &app, "legal").await?;
        browser.goto(&app.url("/legal")).await?;
        for (id, value) in [
            ("c-reference", "LC-2026-078"),
            ("c-title", "Fishing boat, Koh Kong"),
            ("c-court", "Koh Kong Provincial Court"),
        ] {
            browser
                .find(Locator::Id(id))
                .await?
                .send_keys(value)
                .await?;
        }
        browser
            .find(Locator::Id("open-submit"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "case").await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("link-form"))
            .await?;

        open_details(&browser, "link-form").await?;
        browser
            .find(Locator::Id("ln-reference"))
            .await?
            .send_keys("PP-2026-001")
            .await?;
        browser
            .find(Locator::Id("ln-capacity"))
            .await?
            .select_by_value("complainant")
            .await?;
        browser
            .find(Locator::Id("link-submit"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "link").await?;
        let linked = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("saved-notice"))
            .await?
            .text()
            .await?;

        open_details(&browser, "suspect-form").await?;
        browser
            .find(Locator::Id("sp-name"))
            .await?
            .send_keys("Heng Sambath")
            .await?;
        browser
            .find(Locator::Id("sp-role"))
            .await?
            .select_by_value("exploiter")
            .await?;
        browser
            .find(Locator::Id("suspect-submit"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "suspect").await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("charge-form"))
            .await?;

        open_details(&browser, "charge-form").await?;
        browser
            .find(Locator::Id("ch-article"))
            .await?
            .select_by_value("art-15")
            .await?;
        let against = browser.find(Locator::Id("ch-suspect")).await?;
        let suspect = against
            .find(Locator::XPath("option[2]"))
            .await?
            .attr("value")
            .await?
            .unwrap_or_default();
        against.select_by_value(&suspect).await?;
        browser
            .find(Locator::Id("charge-submit"))
            .await?
            .click()
            .await?;
        wait_saved(&browser, "charge").await?;
        let charged = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("saved-notice"))
            .await?
            .text()
            .await?;
        let section = browser
            .find(Locator::XPath("//section[@aria-labelledby='suspects-h']"))
            .await?
            .text()
            .await?;
        let survivors = browser
            .find(Locator::XPath(
                "//section[@aria-labelledby='survivors-h']//table",
            ))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>((linked, charged, section, survivors))
    }
    .await;
    let _ = browser.close().await;
    let (linked, charged, section, survivors) = result.expect("browser steps");
    assert!(linked.contains("She is linked to the case."), "{linked}");
    assert!(charged.contains("The charge is added."), "{charged}");
    assert!(section.contains("Heng Sambath · Exploiter"), "{section}");
    assert!(section.contains("art-15"), "{section}");
    assert!(survivors.contains("PP-2026-001"), "{survivors}");
    app.stop().await;
}
