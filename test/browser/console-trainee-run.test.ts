import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/start.ts';
import type { RunReport } from '../../src/training/report.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';

/**
 * Issue 12's "Done when": a trainer assigns a run to trainee A in the console; trainee A logs in,
 * opens the evidence, acknowledges and sets a disposition in "My training run"; the trainer opens
 * the after-action report, which shows the actions, their response times and the score; the live
 * alarm list and the KPIs are the same as before the run (the run has its own engine).
 */
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-trainee-ui-'));
const CONFIG = `
station: { id: demo, name: Trainee run test station }
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
devices:
  - { id: belt-geiger, name: Parcel belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/null } }
`;
const TRAINER = { name: 'instructor-kim', password: 'trainer-password-for-test' };
const TRAINEE = { name: 'trainee-a', password: 'trainee-a-password-for-test' };

/** Logs in through the console's login box (loginAs waits for a role equal to the name). */
async function logIn(page: Page, u: { name: string; password: string }): Promise<void> {
  await page.getByTestId('login-user').fill(u.name);
  await page.getByTestId('login-password').fill(u.password);
  await page.getByTestId('login-submit').click();
  await page.locator(`[data-testid="whoami-name"]:text-is("${u.name}")`).waitFor();
}

async function logOut(page: Page): Promise<void> {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-form').waitFor();
}

describe('a trainee run worked in the console (Chromium)', () => {
  let stack: ConsoleStack;
  let server: RunningServer;
  let page: Page;

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: [
        { ...TRAINER, role: 'trainer' },
        { ...TRAINEE, role: 'operator' },
      ],
    });
    ({ server, page } = stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('trainer assigns, trainee acknowledges and sets a disposition, the report scores it, live state untouched', async () => {
    const get = async (path: string) => (await fetch(`${server.url}${path}`)).json();
    const kpisBefore = await get('/api/alarms/kpis');
    const liveBefore = await get('/api/alarms');

    // The trainer assigns the interlock scenario to trainee A, in real time.
    await logIn(page, TRAINER);
    await page.getByTestId('trainee-name').fill(TRAINEE.name);
    await page.locator('[data-testid="training-scenario"][data-name="xray-interlock-beam-on"] [data-testid="training-assign"]').click();
    const assigned = page.locator('[data-testid="trainee-run"]');
    await expect.poll(() => assigned.first().getAttribute('data-state')).toBe('running');
    const runId = (await assigned.first().getAttribute('data-run')) as string;
    await logOut(page);

    // Trainee A logs in and sees the run; the door opens at 20 s with the interlock bypassed.
    await logIn(page, TRAINEE);
    const box = page.getByTestId('my-training');
    await box.waitFor();
    expect(await box.getAttribute('data-run')).toBe(runId);
    expect(await page.getByTestId('my-training-title').textContent()).toContain(`assigned by ${TRAINER.name}`);
    const alarm = page.locator('[data-testid="trainee-alarm"][data-rule="xray_interlock_open_beam_on"]');
    await alarm.waitFor({ timeout: 40_000 });
    expect(await alarm.getAttribute('data-severity')).toBe('emergency');
    await alarm.getByTestId('trainee-evidence').click();
    await expect.poll(() => alarm.getByTestId('trainee-evidence-text').isVisible()).toBe(true);
    await alarm.getByTestId('trainee-ack').click();
    await expect.poll(() => alarm.getAttribute('data-acknowledged')).toBe('true');
    await alarm.getByTestId('trainee-disposition-value').selectOption('true');
    await alarm.getByTestId('trainee-nuclide').fill('none');
    await alarm.getByTestId('trainee-set-disposition').click();
    await expect.poll(() => alarm.getByTestId('trainee-alarm-status').textContent()).toContain('disposition: true (none)');
    // The checklist item ("call the RPO") is ticked in the console; the scanner is taken out of service.
    const rpo = page.locator('[data-testid="trainee-checklist-item"][data-item="call-rpo"]');
    await rpo.click();
    await expect.poll(() => rpo.getAttribute('data-done')).toBe('true');
    await alarm.getByTestId('trainee-out-of-service').click();
    await expect.poll(() => alarm.getByTestId('trainee-alarm-status').textContent()).toContain('device out of service');
    // Nothing of the run is in the live list.
    expect(await page.locator('[data-testid="alarm-list"] [data-testid="alarm-item"]').count()).toBe(0);
    expect(await page.locator('[data-testid="training-list"] [data-testid="alarm-item"]').count()).toBe(0);
    await page.getByTestId('my-training-end').click();
    await expect.poll(() => box.getAttribute('data-state')).toBe('stopped');
    await logOut(page);

    // The trainer opens the after-action report from the trainee's runs.
    await logIn(page, TRAINER);
    await page.getByTestId('trainee-name').fill(TRAINEE.name);
    const done = page.locator(`[data-testid="trainee-run"][data-run="${runId}"]`);
    await expect.poll(() => done.getAttribute('data-state')).toBe('stopped');
    const [reportPage] = await Promise.all([page.waitForEvent('popup'), done.getByTestId('trainee-run-report').click()]);
    await reportPage.waitForLoadState();
    const report = (await (await reportPage.request.get(`${server.url}/api/training/runs/${runId}/report`)).json()) as RunReport;
    expect(report.trainee).toBe(TRAINEE.name);
    expect(report.actions.filter((a) => a.ok).map((a) => a.kind)).toEqual([
      'view_evidence',
      'acknowledge',
      'disposition',
      'checklist',
      'out_of_service',
    ]);
    const ack = report.actions.find((a) => a.kind === 'acknowledge');
    expect(ack?.response_s).toBeGreaterThanOrEqual(0);
    expect(report.alarms[0]?.response_s).toBe(ack?.response_s);
    expect(report.alarms[0]?.disposition).toBe('true');
    // Acknowledged within 30 s, after the evidence: the interlock item is earned, no penalty.
    expect(report.expected.find((x) => x.id === 'ack-interlock')?.status).toBe('met');
    expect(report.expected.find((x) => x.id === 'call-rpo')?.status).toBe('met');
    expect(report.score.earned).toBeGreaterThan(0);
    expect(report.score.penalties).toBe(0);
    // The printed page shows the same actions, response time and score.
    expect(await reportPage.getByTestId('report-trainee').textContent()).toBe(TRAINEE.name);
    // Its stylesheet is a file (report.css), so the strict CSP lets it apply.
    expect(await reportPage.getByTestId('report-score').evaluate((e) => getComputedStyle(e).fontWeight)).toBe('700');
    expect(await reportPage.getByTestId('report-score').textContent()).toBe(`Score ${report.score.percent} %`);
    const actions = (await reportPage.getByTestId('report-actions').textContent()) as string;
    for (const kind of ['view_evidence', 'acknowledge', 'disposition', 'checklist', 'out_of_service']) expect(actions).toContain(kind);
    expect(actions).toContain(String(ack?.response_s));
    expect(await page.getByTestId('trainee-run-summary').first().textContent()).toContain(`score ${report.score.percent} %`);

    // The live station never saw the run.
    expect(await get('/api/alarms/kpis')).toEqual(kpisBefore);
    expect(await get('/api/alarms')).toEqual(liveBefore);
    expect(await page.locator('[data-testid="alarm-list"] [data-testid="alarm-item"]').count()).toBe(0);
  }, 120_000);

  it('a trainee starts a scenario alone from the console (self-paced) and works it until it ends', async () => {
    if (await page.getByTestId('logout').isVisible()) await logOut(page);
    expect(await page.getByTestId('self-paced').isVisible()).toBe(false);
    await logIn(page, TRAINEE);
    const practise = page.getByTestId('self-paced');
    await practise.locator('summary').click();
    // 5×: the door opens at 4 s and the run lasts 12 s, time enough to act before it ends.
    await page.getByTestId('self-paced-speed').selectOption('5');
    await practise
      .locator('[data-testid="self-paced-scenario"][data-name="xray-interlock-beam-on"] [data-testid="self-paced-start"]')
      .click();
    const box = page.getByTestId('my-training');
    await expect.poll(() => box.getAttribute('data-state')).toBe('running');
    expect(await page.getByTestId('my-training-title').textContent()).toContain('(self-paced)');
    const alarm = page.locator('[data-testid="trainee-alarm"][data-rule="xray_interlock_open_beam_on"]');
    await alarm.waitFor({ timeout: 20_000 });
    await alarm.getByTestId('trainee-ack').click();
    const runId = (await box.getAttribute('data-run')) as string;
    await expect.poll(() => box.getAttribute('data-state'), { timeout: 20_000 }).not.toBe('running');
    const runs = (await (await page.request.get(`${server.url}/api/training/trainees/${TRAINEE.name}/runs`)).json()) as {
      runs: { run: string; mode: string }[];
    };
    expect(runs.runs.find((r) => r.run === runId)?.mode).toBe('self_paced');
    const report = (await (await page.request.get(`${server.url}/api/training/runs/${runId}/report`)).json()) as RunReport;
    expect(report.actions.map((a) => [a.kind, a.user])).toEqual([['acknowledge', TRAINEE.name]]);
    expect(await page.getByTestId('my-training-report').getAttribute('href')).toBe(
      `/api/training/runs/${encodeURIComponent(runId)}/report.html`,
    );
  }, 90_000);
});
