#!/usr/bin/env python3
"""End-to-end test of the web dashboard in headless Chromium (issue 12).

Starts a real ohfed-aggregator with --http on loopback, loads the known data
set browser_data.csv through its Ingest service (dashboard_seed), signs in
through the login form with a national token and checks, in a real browser:
  - every page loads with no console errors;
  - the England page shows the Table 1 totals, means and services reporting,
    and the Table 2 counts, computed here from browser_data.csv;
  - clicking unit links drills down England -> region -> ICS -> trust, and
    each page shows that unit's figures, with a breadcrumb back up;
  - a suppressed figure is `*` on the trust page and in its CSV download;
  - an ICS lead's token cannot open another ICS's page or CSV;
  - no recovery warning on a sound store; then, with the data set loaded,
    the store is damaged (dashboard_seed --damage) and the aggregator
    restarted: it recovers, and the CMO's and the ICS lead's pages show a
    visible warning that the figures may be incomplete, never call them
    complete, and mark the unconfirmed trusts in the completeness grid;
and writes a screenshot of each page into --screenshots.

It needs Debian's chromium, chromium-driver and python3-selenium
(deploy/install-deps.sh): without them it FAILS, it does not skip.

  browser_test.py --aggregator BIN --ohfed BIN --seed BIN --source DIR
                  --screenshots DIR [--tls]
"""

import argparse
import csv
import http.cookiejar
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict

PERIOD = "2026-10"  # the default period at TEST_NOW: October's deadline passed
YEAR = "2026"
TEST_NOW = "2026-11-20T12:00:00Z"
REGIONS = {"Y63": "North East and Yorkshire", "Y56": "London"}


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


# ----------------------------------------------------------------- expected


def load_data(source):
    """The data set, and where each trust sits (region, ICS, names)."""
    rows = []
    with open(os.path.join(source, "tests/dashboard/browser_data.csv")) as f:
        lines = [l for l in f if not l.startswith("#")]
    for r in csv.DictReader(lines):
        r["value"] = float(r["value"])
        rows.append(r)
    places = {}
    with open(os.path.join(source, "common/data/england_orgs.csv")) as f:
        lines = [l for l in f if not l.startswith("#")]
    for r in csv.DictReader(lines):
        places[r["trust_code"]] = r
    labels = {}
    with open(os.path.join(source, "common/data/catalogue.csv")) as f:
        lines = [l for l in f if not l.startswith("#")]
    for r in csv.DictReader(lines):
        labels[r["code"]] = r["label"]
    return rows, places, labels


def short_label(labels, code):
    """As dashboard/pages_util.cc ShortLabel: after ': ', capitalised."""
    label = labels[code]
    if ": " in label:
        label = label.split(": ", 1)[1]
    return label[:1].upper() + label[1:]


def in_scope(places, trust, scope):
    level, _, code = scope.partition(":")
    if level == "national":
        return True
    p = places[trust]
    return {"region": p["region_code"], "ics": p["ics_code"],
            "trust": trust}[level] == code


def expected_table1(rows, places, labels, scope):
    """{staff group label: (total, mean, services)} as the page prints them."""
    by_group = defaultdict(list)
    for r in rows:
        if (r["period"] == PERIOD and r["measure"].startswith("staffing.wte.")
                and in_scope(places, r["trust"], scope)):
            by_group[r["measure"]].append(r["value"])
    out = {}
    for measure, values in by_group.items():
        total = sum(values)
        out[short_label(labels, measure)] = (
            "%.1f" % total, "%.2f" % (total / len(values)), str(len(values)))
    return out


def expected_table2(rows, places):
    """{measure: "yes/answered (pct%)"} nationally."""
    answers = defaultdict(list)
    for r in rows:
        if r["period"] == YEAR and r["measure"].startswith("profile.covid."):
            answers[r["measure"]].append(r["value"])
    out = {}
    for measure, values in answers.items():
        yes = sum(1 for v in values if v == 1)
        out[measure] = "%d/%d (%.0f%%)" % (yes, len(values),
                                           100.0 * yes / len(values))
    return out


# ------------------------------------------------------------- the federation


class Federation:
    """One aggregator with --http and the data set, and two tokens."""

    def __init__(self, args, work):
        self.work = work
        env = dict(os.environ, OHFED_TEST_NOW=TEST_NOW)
        self.national = self.token(args.ohfed, "national", "CMO")
        self.humber = self.token(args.ohfed, "ics:QOQ", "Humber lead")
        with open(os.path.join(work, "tokens"), "w") as f:
            f.write(self.national[1] + "\n" + self.humber[1] + "\n")
        cmd = [args.aggregator, "--listen", "127.0.0.1:0", "--data",
               os.path.join(work, "data"), "--tokens",
               os.path.join(work, "tokens"), "--http", "127.0.0.1:0"]
        if args.tls:
            certs = os.path.join(work, "certs")
            subprocess.run(["bash", os.path.join(args.source,
                                                 "deploy/dev-certs.sh"),
                            certs], check=True, stdout=subprocess.DEVNULL)
            cmd += ["--tls-cert", os.path.join(certs, "server.pem"),
                    "--tls-key", os.path.join(certs, "server.key"),
                    "--tls-ca", os.path.join(certs, "ca.pem")]
            self.ca = os.path.join(certs, "ca.pem")
        else:
            cmd += ["--insecure"]
            self.ca = None
        self.cmd, self.env = cmd, env
        self.start("aggregator.log")
        if args.tls:
            # Seeding uses plaintext; with TLS the test's agent-side
            # certificates would be needed, so a TLS run seeds nothing and
            # checks access only.
            self.seeded = False
        else:
            out = subprocess.run([args.seed, self.grpc, os.path.join(
                args.source, "tests/dashboard/browser_data.csv")],
                capture_output=True, text=True, env=env)
            check(out.returncode == 0, "seeding failed: " + out.stderr)
            self.seeded = True

    def start(self, log_name):
        self.log_path = os.path.join(self.work, log_name)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.grpc, self.url = self.wait_for_addresses()

    def restart_damaged(self, seed):
        """Stops the aggregator, damages its store, starts it again."""
        self.stop()
        out = subprocess.run([seed, "--damage", os.path.join(self.work,
                                                             "data")],
                             capture_output=True, text=True)
        check(out.returncode == 0, "damaging the store failed: " + out.stderr)
        self.start("aggregator-recovered.log")
        with open(self.log_path) as f:
            log = f.read()
        check("damaged and recovered" in log,
              "the aggregator did not report a recovery:\n" + log)

    @staticmethod
    def token(ohfed, scope, name):
        out = subprocess.run([ohfed, "token", "new", "--scope", scope,
                              "--name", name],
                             capture_output=True, text=True, check=True)
        lines = out.stdout.strip().splitlines()
        return lines[0].strip(), lines[1].strip()

    def wait_for_addresses(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.log_path) as f:
                text = f.read()
            grpc = re.search(r"listening on (127\.0\.0\.1:\d+)", text)
            http = re.search(r"dashboard on (https?://127\.0\.0\.1:\d+/)",
                             text)
            if grpc and http:
                return grpc.group(1), http.group(1)
            if self.proc.poll() is not None:
                fail("the aggregator exited:\n" + text)
            time.sleep(0.1)
        fail("the aggregator did not start its dashboard")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        with open(self.log_path) as f:
            log = f.read()
        for token, _ in (self.national, self.humber):
            check(token not in log, "a token appears in the aggregator's log")


def fetch(fed, path, token=None, cookie=None):
    """(status, headers, body) of a GET outside the browser."""
    request = urllib.request.Request(fed.url.rstrip("/") + path)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if cookie:
        request.add_header("Cookie", "ohfed_session=" + cookie)
    context = ssl.create_default_context(cafile=fed.ca) if fed.ca else None

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=30) as r:
            return r.status, r.headers, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8")


# ------------------------------------------------------------------ browser


def start_browser(fed):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        fail("python3-selenium is not installed (deploy/install-deps.sh)")
    chromium = shutil.which("chromium")
    driver_bin = shutil.which("chromedriver")
    check(chromium is not None,
          "chromium is not installed (deploy/install-deps.sh)")
    check(driver_bin is not None,
          "chromedriver is not installed: chromium-driver "
          "(deploy/install-deps.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,1000",
              "--disable-extensions", "--no-first-run"):
        options.add_argument(a)
    if fed.ca:
        # The development CA is not in the browser's store.
        options.add_argument("--ignore-certificate-errors")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_bin), options=options)


class Browser:
    def __init__(self, fed, screenshots):
        from selenium.webdriver.common.by import By
        self.By = By
        self.fed = fed
        self.driver = start_browser(fed)
        self.driver.set_page_load_timeout(60)
        self.screenshots = screenshots

    def quit(self):
        self.driver.quit()

    def path(self):
        url = self.driver.current_url
        return url[len(self.fed.url.rstrip("/")):]

    def console_errors(self, allowed=()):
        errors = [e for e in self.driver.get_log("browser")
                  if e["level"] == "SEVERE"
                  and not any(a in e["message"] for a in allowed)]
        check(not errors, "console errors on %s: %s" % (self.path(), errors))

    def screenshot(self, name):
        """NAME.png of the whole page, and NAME-top.png of its first screen."""
        self.driver.save_screenshot(os.path.join(self.screenshots,
                                                 name + "-top.png"))
        height = self.driver.execute_script(
            "return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, min(max(height, 600), 12000))
        self.driver.save_screenshot(os.path.join(self.screenshots,
                                                 name + ".png"))
        self.driver.set_window_size(1280, 1000)

    def open(self, path):
        self.driver.get(self.fed.url.rstrip("/") + path)

    def find(self, css):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def text(self, css):
        found = self.find(css)
        check(found, "no %s on %s" % (css, self.path()))
        return found[0].text

    def table(self, table_id):
        """{row header: [cell texts]} of a table on the page."""
        rows = {}
        for tr in self.find("table#table-%s tbody tr" % table_id):
            head = tr.find_elements(self.By.CSS_SELECTOR, "th")
            cells = tr.find_elements(self.By.CSS_SELECTOR, "td")
            if head:
                rows[head[0].text.strip()] = [c.text.strip() for c in cells]
        check(rows, "table %s is empty or missing on %s" %
              (table_id, self.path()))
        return rows

    def headers(self, table_id):
        return [th.text.strip() for th in
                self.find("table#table-%s thead th" % table_id)]

    def click_link(self, text):
        links = self.driver.find_elements(self.By.LINK_TEXT, text)
        check(links, "no link '%s' on %s" % (text, self.path()))
        href = links[0].get_attribute("href")
        links[0].click()
        self.wait_for_url(href)

    def click_and_wait(self, css, path_prefix):
        """Clicks a (submit) button and waits for the next page."""
        before = self.driver.current_url
        self.find(css)[0].click()
        self.wait_for(lambda: self.driver.current_url != before and
                      self.path().startswith(path_prefix) and
                      self.driver.execute_script(
                          "return document.readyState") == "complete",
                      "a page under %s after clicking %s (at %s)" %
                      (path_prefix, css, self.path()))

    def wait_for_url(self, url):
        self.wait_for(lambda: self.driver.current_url == url and
                      self.driver.execute_script(
                          "return document.readyState") == "complete",
                      "%s to load (at %s)" % (url, self.driver.current_url))

    def wait_for(self, condition, what):
        deadline = time.time() + 30
        while time.time() < deadline:
            if condition():
                return
            time.sleep(0.05)
        fail("timed out waiting for " + what)

    def sign_in(self, token):
        self.open("/")
        check(self.path().startswith("/login"),
              "nobody was not sent to the login page: " + self.path())
        self.find("input#token")[0].send_keys(token)
        self.click_and_wait("form[action='/login'] button", "/scope/")

    def sign_out(self):
        self.click_and_wait("form[action='/logout'] button", "/login")


def check_table1(browser, expected, where):
    table = browser.table("workforce")
    for group, (total, mean, services) in expected.items():
        check(group in table, "%s: no Table 1 row %r" % (where, group))
        got = table[group][:3]
        check(got == [total, mean, services],
              "%s: Table 1 %r shows %s, expected %s" %
              (where, group, got, [total, mean, services]))


def check_table2(browser, expected, labels):
    table = browser.table("covid")
    headers = browser.headers("covid")
    for measure, text in expected.items():
        _, _, topic, level, where = measure.split(".")
        topic_label = labels[measure].split(": ")[0]
        topic_label = topic_label[:1].upper() + topic_label[1:]
        check(topic_label in table, "no Table 2 row %r" % topic_label)
        level_words = {"strategic": "Strategic planning",
                       "none": "No involvement"}[level]
        where_words = {"host": "at host trust",
                       "other": "at other NHS trusts"}[where]
        column = headers.index("%s, %s" % (level_words, where_words)) - 1
        got = table[topic_label][column]
        check(got == text, "Table 2 %s shows %r, expected %r" %
              (measure, got, text))


def check_recovery_warning(browser, fed, seed):
    """After a damaged store was recovered, the CMO and an ICS lead see it."""
    browser.sign_out()
    fed.restart_damaged(seed)
    for token, landing, shot in ((fed.national[0], "/scope/national",
                                  "england-recovered"),
                                 (fed.humber[0], "/scope/ics/QOQ",
                                  "ics-recovered")):
        browser.sign_in(token)
        check(browser.path().startswith(landing),
              "landed on %s, expected %s" % (browser.path(), landing))
        browser.console_errors()
        found = browser.find("#recovery-warning")
        check(found and found[0].is_displayed(),
              "no visible recovery warning on " + browser.path())
        text = found[0].text
        for words in ("figures may be incomplete", "damaged and recovered",
                      "trusts here have not yet resent what was lost"):
            check(words in text, "the warning lacks %r: %r" % (words, text))
        status = browser.text("#reporting-status")
        check("figures are complete" not in status and
              "may be incomplete" in status,
              "the reporting status after a recovery: %r" % status)
        grid = browser.table("completeness_grid")
        check(any("unconfirmed" in c for row in grid.values() for c in row),
              "no unconfirmed trust in the completeness grid")
        browser.screenshot(shot)
        browser.sign_out()


def run(args):
    rows, places, labels = load_data(args.source)
    os.makedirs(args.screenshots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ohfed-dashboard-")
    fed = Federation(args, work)
    browser = None
    try:
        browser = Browser(fed, args.screenshots)
        suffix = "-tls" if args.tls else ""

        # Nobody: the login page; a wrong token stays there.
        browser.open("/scope/national")
        check(browser.path().startswith("/login"), "no login page for nobody")
        browser.console_errors()
        browser.screenshot("login" + suffix)
        browser.find("input#token")[0].send_keys("ohfed_not-a-token")
        browser.find("form[action='/login'] button")[0].click()
        browser.wait_for(lambda: browser.find("#login-error"),
                         "the login page to refuse a wrong token")
        check("not-a-token" not in browser.driver.page_source,
              "the refused token is echoed")
        browser.console_errors(allowed=("401",))

        # National: lands on England.
        browser.sign_in(fed.national[0])
        check(browser.path() == "/scope/national?period=" + PERIOD,
              "national landed on " + browser.path())
        check(browser.text("h1").startswith("England"), "not the England page")
        check("trusts" in browser.text("#reporting-status"),
              "no reporting status")
        check(not browser.find("#recovery-warning") and
              "damaged" not in browser.text("main"),
              "a recovery warning on a sound store")
        browser.console_errors()
        cookie = browser.driver.get_cookie("ohfed_session")
        check(cookie and cookie.get("httpOnly") and
              cookie.get("sameSite") == "Strict",
              "session cookie flags: %s" % cookie)
        check(bool(cookie.get("secure")) == bool(args.tls),
              "Secure flag %s under %s" % (cookie.get("secure"),
                                           "TLS" if args.tls else "HTTP"))
        if fed.seeded:
            check_table1(browser, expected_table1(rows, places, labels,
                                                  "national"), "England")
            check_table2(browser, expected_table2(rows, places), labels)
        browser.screenshot("england" + suffix)

        # Keyboard: the first Tab reaches the skip link, which is shown.
        from selenium.webdriver.common.keys import Keys
        browser.find("body")[0].send_keys(Keys.TAB)
        focused = browser.driver.switch_to.active_element
        check(focused.get_attribute("class") == "skip" and
              focused.is_displayed(),
              "the first Tab does not reach a visible skip link")

        # The period picker is a plain GET form.
        from selenium.webdriver.support.ui import Select
        Select(browser.find("select#period")[0]).select_by_value("2026-Q3")
        browser.click_and_wait("form.picker button", "/scope/national")
        check(browser.path() == "/scope/national?period=2026-Q3",
              "the period picker went to " + browser.path())
        browser.console_errors()
        browser.open("/scope/national?period=" + PERIOD)

        if fed.seeded:
            # Drill down by clicking unit names.
            trust = places["RCB"]
            steps = [
                (REGIONS["Y63"], "/scope/region/Y63", "region:Y63", "region"),
                (trust["ics_name"], "/scope/ics/QOQ", "ics:QOQ", "ics"),
                (trust["trust_name"], "/scope/trust/RCB", "trust:RCB",
                 "trust"),
            ]
            for link, path, scope, shot in steps:
                browser.click_link(link)
                check(browser.path().startswith(path),
                      "clicking %r went to %s" % (link, browser.path()))
                check(browser.text("h1").startswith(link),
                      "page title %r, expected %r" % (browser.text("h1"),
                                                      link))
                browser.console_errors()
                check(browser.find("nav.crumbs a"), "no breadcrumb back up")
                check_table1(browser, expected_table1(rows, places, labels,
                                                      scope), link)
                browser.screenshot(shot + suffix)

            # RCB's 5 immunisations: `*` on the page and in the CSV.
            label = short_label(labels, "activity.wait_days.immunisation")
            activity = browser.table("activity")
            check(activity[label][0] == "*",
                  "RCB immunisations show %r, not *" % activity[label][0])
            check(browser.find("#suppression-note"), "no note on *")
            href = browser.find("a[href*='/activity.csv']")[0].get_attribute(
                "href")
            path = href[len(fed.url.rstrip("/")):]
            status, headers, body = fetch(fed, path, cookie=cookie["value"])
            check(status == 200, "CSV download: %d" % status)
            check(headers["Content-Disposition"].startswith("attachment"),
                  "CSV is not an attachment")
            found = [r for r in csv.reader(body.splitlines())
                     if r and r[0] == label]
            check(found and found[0][1] == "*",
                  "CSV row %r is %s, not *" % (label, found))
            # Nationally the same figure is shown as it is.
            browser.open("/scope/national?period=" + PERIOD)
            national = browser.table("activity")[label][0]
            check(national == "171", "England immunisations %r" % national)

        browser.sign_out()

        # An ICS lead: lands on their ICS, cannot open another.
        browser.sign_in(fed.humber[0])
        check(browser.path() == "/scope/ics/QOQ?period=" + PERIOD,
              "ICS lead landed on " + browser.path())
        browser.console_errors()
        browser.open("/scope/ics/QKK?period=" + PERIOD)
        check("Not in your scope" in browser.text("h1"),
              "an ICS lead opened another ICS")
        browser.console_errors(allowed=("403",))
        browser.screenshot("forbidden" + suffix)
        status, _, _ = fetch(fed, "/scope/ics/QKK/workforce.csv?period=" +
                             PERIOD, token=fed.humber[0])
        check(status == 403, "another ICS's CSV: %d" % status)
        status, _, _ = fetch(fed, "/scope/ics/QOQ/workforce.csv?period=" +
                             PERIOD, token=fed.humber[0])
        check(status == 200, "own ICS's CSV with a Bearer token: %d" % status)

        if fed.seeded:
            check_recovery_warning(browser, fed, args.seed)
    finally:
        if browser is not None:
            browser.quit()
        fed.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("dashboard browser test passed%s; screenshots in %s" %
          (" (TLS)" if args.tls else "", args.screenshots))


def main():
    p = argparse.ArgumentParser()
    for name in ("aggregator", "ohfed", "seed", "source", "screenshots"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--tls", action="store_true")
    run(p.parse_args())


if __name__ == "__main__":
    main()
