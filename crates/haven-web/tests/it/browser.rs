//! A real headless Chromium, driven over WebDriver, against the real app.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and skips, except under CI, where it fails.

use crate::support::{TestApp, DEMO_PASSWORD};
use fantoccini::{ClientBuilder, Locator};
use haven_store::testing::TestDb;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) struct ChromeDriver {
    child: Child,
    pub(crate) url: String,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(binary: &str) -> Option<String> {
    let env_name = format!("HAVEN_TEST_{}", binary.to_uppercase());
    if let Ok(path) = std::env::var(env_name) {
        return Some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(binary))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string())
    })
}

pub(crate) async fn start_driver() -> Option<(ChromeDriver, String)> {
    let (Some(driver), Some(chromium)) = (find("chromedriver"), find("chromium")) else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium and chromedriver are required under CI: the browser test must run");
        }
        eprintln!(
            "SKIPPED: browser test (install Debian's chromium and chromium-driver to run it)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = ChromeDriver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some((driver, chromium));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start within 10 s");
}

/// What the browser's screen is.
#[derive(Debug, Clone, Copy)]
pub enum Screen {
    /// A desktop window of this size.
    Window(u32, u32),
    /// An emulated phone screen of this size (a small phone is 360 x 740).
    Phone(u32, u32),
}

/// A headless Chromium with the given screen. Keep the returned profile folder alive as long
/// as the browser.
pub async fn open_browser(
    driver: &ChromeDriver,
    chromium: &str,
    screen: Screen,
) -> (fantoccini::Client, tempfile::TempDir) {
    // Chrome will not make a window narrower than about 500 px: a phone's screen is emulated
    // inside a larger window.
    let window = match screen {
        Screen::Window(w, h) => format!("--window-size={w},{h}"),
        Screen::Phone(..) => "--window-size=800,1000".to_owned(),
    };
    let profile = tempfile::tempdir().unwrap();
    let mut options = serde_json::json!({
        "binary": chromium,
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--lang=en-US",
            format!("--user-data-dir={}", profile.path().display()),
            window
        ]
    });
    if let Screen::Phone(width, height) = screen {
        options["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true}
        });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".to_owned(), options);
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver");
    (browser, profile)
}

/// Signs in through the login form.
pub async fn sign_in(
    browser: &fantoccini::Client,
    app: &TestApp,
    username: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser.goto(&app.url("/login")).await?;
    browser
        .find(Locator::Id("username"))
        .await?
        .send_keys(username)
        .await?;
    browser
        .find(Locator::Id("password"))
        .await?
        .send_keys(DEMO_PASSWORD)
        .await?;
    browser
        .find(Locator::Id("login-submit"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("account-link"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_user_signs_in_and_switches_to_khmer() {
    let Some((driver, chromium)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (browser, _profile) =
        open_browser(&driver, &chromium, crate::browser::Screen::Window(412, 915)).await;

    let result = async {
        browser.goto(&app.url("/login")).await?;
        let heading = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(heading, "Sign in");
        browser
            .find(Locator::Id("username"))
            .await?
            .send_keys("manager")
            .await?;
        browser
            .find(Locator::Id("password"))
            .await?
            .send_keys(DEMO_PASSWORD)
            .await?;
        browser
            .find(Locator::Id("login-submit"))
            .await?
            .click()
            .await?;
        // Waiting on the text itself, not on any h1, so the login page's heading is never
        // mistaken for the dashboard's.
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//main/h1[text()='Overview']"))
            .await?;
        let counts = browser
            .find(Locator::Id("count-partners"))
            .await?
            .text()
            .await?;
        assert_eq!(counts, "9");

        browser
            .find(Locator::Id("lang"))
            .await?
            .select_by_value("km")
            .await?;
        browser
            .find(Locator::Id("lang-submit"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//main/h1[text()='ទិដ្ឋភាពទូទៅ']"))
            .await?;
        let lang = browser
            .find(Locator::Css("html"))
            .await?
            .attr("lang")
            .await?;
        assert_eq!(lang.as_deref(), Some("km"));
        let nav = browser
            .find(Locator::Css("nav.mainnav"))
            .await?
            .text()
            .await?;
        assert!(nav.contains("ជនរងគ្រោះ"), "navigation is in Khmer: {nav}");
        let button = browser
            .find(Locator::Css(".account button"))
            .await?
            .text()
            .await?;
        assert_eq!(button, "ចាកចេញ");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    result.expect("browser steps");
    app.stop().await;
}
