// The demo end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): connect as a fresh user, send a message from the page, see it in the list.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { startDemoServer } from '../demo/server.mjs';
import { freshUser } from './support.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

test('the demo page receives the message it sent', { timeout: 60_000 }, async () => {
  const demo = await startDemoServer({ port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'homing-chromium-'));
  let browser;
  try {
    // A persistent context on a fresh folder: Playwright's way of passing --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(demo.url);
    await page.fill('#user', freshUser('demo'));
    await page.click('#connect-button');
    await page.waitForSelector('#state:text-matches("^open")', { timeout: 15_000 });
    await page.fill('#text', 'hello from the page');
    await page.click('#send-button');
    const item = page.locator('#messages li');
    await item.first().waitFor({ timeout: 15_000 });
    assert.deepEqual(await item.allTextContents(), ['#1 hello from the page']);
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await demo.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
