// Drives lote's dashboard in headless Chromium (Debian's /usr/bin/chromium)
// with playwright-core; run by tests/e2e/test_dashboard.py, which starts the
// server and the jobs. Input: one JSON argument
//   {loginUrl, fastJob, slowJob, hostileName, screenshot?}
// Output: one JSON line on stdout with what it saw; the Python test asserts.
// Any step that does not happen within its bound throws (exit code 1) with
// the step's name.
import fs from 'node:fs';
import process from 'node:process';
import {chromium} from 'playwright-core';

const args = JSON.parse(process.argv[2]);
const STEP_MS = 30000;
const out = {steps: [], cspViolations: [], pageErrors: []};

async function step(name, fn) {
  try {
    const value = await fn();
    out.steps.push(name);
    return value;
  } catch (e) {
    e.message = `step '${name}': ${e.message}`;
    throw e;
  }
}

const browser = await chromium.launch({
  executablePath: process.env.LOTE_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Chromium's sandbox needs user namespaces, which a root CI container
  // lacks; a container's /dev/shm is often too small for its shared memory.
  args: ['--disable-dev-shm-usage', ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [])],
});
try {
  const context = await browser.newContext({acceptDownloads: true, viewport: {width: 1200, height: 860}});
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) out.cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  page.on('dialog', (d) => d.accept());  // the Cancel button asks first

  await step('login', async () => {
    const res = await page.goto(args.loginUrl);
    out.landedOn = new URL(page.url()).pathname;
    out.loginStatus = res.status();
    out.cookies = (await context.cookies()).map((c) => ({name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite,
      path: c.path}));
  });

  await step('job list', async () => {
    await page.locator(`tr[data-job="${args.fastJob}"]`).waitFor();
    await page.locator(`tr[data-job="${args.slowJob}"]`).waitFor();
    await page.selectOption('#status-filter', 'Completed');
    await page.locator(`tr[data-job="${args.slowJob}"]`).waitFor({state: 'detached'});
    out.completedFilterShows = await page.locator('#jobs tr[data-job]').evaluateAll(
      (rows) => rows.map((r) => r.getAttribute('data-job')));
    await page.selectOption('#status-filter', '');
    await page.locator(`tr[data-job="${args.slowJob}"]`).waitFor();
  });

  await step('endpoints', async () => {
    await page.goto(new URL('/endpoints', args.loginUrl).href);
    await page.locator('.card[data-endpoint]').first().waitFor();
    out.endpoints = await page.locator('.card[data-endpoint]').evaluateAll(
      (cards) => cards.map((c) => c.getAttribute('data-endpoint')));
    out.deploymentRows = await page.locator('.card[data-endpoint] tbody tr').evaluateAll(
      (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  });

  await step('running job moves', async () => {
    await page.goto(new URL(`/jobs/${args.slowJob}`, args.loginUrl).href);
    const bar = page.locator('#job-progress');
    await bar.waitFor();
    await page.waitForFunction(() => Number(document.querySelector('#job-progress').max) > 1);
    const v0 = await bar.evaluate((b) => b.value);
    await page.waitForFunction((v) => document.querySelector('#job-progress').value > v, v0, {timeout: 60000});
    const v1 = await bar.evaluate((b) => b.value);
    out.progress = {before: v0, after: v1, max: await bar.evaluate((b) => b.max)};
    // Charts drawn from the mini-batch API.
    await page.locator('#duration-chart svg rect').first().waitFor();
    out.durationBars = await page.locator('#duration-chart svg rect').count();
    if (args.screenshot) {
      await page.waitForFunction(() => document.querySelector('#log').textContent.length > 0);
      await page.screenshot({path: args.screenshot});
    }
  });

  await step('cancel', async () => {
    await page.click('#cancel');
    await page.locator('#job-status [data-status="Canceled"]').waitFor({timeout: 60000});
    out.cancelHiddenAfter = await page.locator('#cancel').isHidden();
  });

  await step('finished job: failed items and download', async () => {
    await page.goto(new URL(`/jobs/${args.fastJob}`, args.loginUrl).href);
    await page.locator('#job-status [data-status="Completed"]').waitFor();
    await page.locator('#failed-items td.file').first().waitFor();
    out.failedFiles = await page.locator('#failed-items td.file').allTextContents();
    out.failedErrors = await page.locator('#failed-items td.error-text').allTextContents();
    out.failedRows = await page.locator('#failed-items td.row-number').allTextContents();
    // A hostile name is text, never markup.
    out.injectedElements = await page.locator('#main img, #main script, #main b.injected').count();
    const link = page.locator('#output-files a.file-link').first();
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    out.downloadName = download.suggestedFilename();
    out.downloaded = fs.readFileSync(await download.path(), 'utf8');
    out.logText = await page.locator('#log').textContent();
  });

  if (args.rowsJob) {
    await step('bad rows of a no-code job', async () => {
      await page.goto(new URL(`/jobs/${args.rowsJob}`, args.loginUrl).href);
      await page.locator('#failed-items td.row-number').first().waitFor();
      out.badRows = await page.locator('#failed-items tr.failed-item').evaluateAll((trs) => trs.map((tr) =>
        ['td.file', 'td.row-number', 'td.column'].map((c) => tr.querySelector(c).textContent)));
      out.badRowErrors = await page.locator('#failed-items td.error-text').allTextContents();
    });
  }

  await step('logged out page', async () => {
    const fresh = await browser.newContext();
    const p2 = await fresh.newPage();
    await p2.goto(new URL(`/jobs/${args.fastJob}`, args.loginUrl).href);
    await p2.locator('#login-help').waitFor();
    out.loggedOutText = await p2.locator('#login-help').textContent();
    await fresh.close();
  });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
