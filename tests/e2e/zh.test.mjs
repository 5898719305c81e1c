// The Chinese console and form page, everywhere: every tab (and the diff a change shows), and
// the form page, with no text node holding a phrase of the product's English. User data
// (people's and customers' names, ids, the sample's records) may be in any language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withBrowser, shots, root } from './helpers.mjs';

/** The product's English phrases: the pages' dictionary (its English values of two words or
 * more, placeholders taken out) and the words the server writes in a diff. */
async function englishPhrases() {
  const text = await readFile(join(root, 'www/src/i18n.js'), 'utf8');
  const en = text.slice(text.indexOf('const en = {'), text.indexOf('const zh = {'));
  const values = [...en.matchAll(/:\s*(['"])((?:\\.|(?!\1).)*)\1/g)].map((m) => m[2]);
  const phrases = values.flatMap((v) => v.split(/\{[^}]*\}/))
    .map((p) => p.replace(/[.:,;()·…?!]+/g, ' ').trim())
    .filter((p) => p.split(/\s+/).length >= 2 && /[a-z]/.test(p));
  const server = [' gains ', ' loses ', 'goes from', 'all records', 'their own records', 'other departments', 'changed (', 'people,', 'capabilities', 'Other changes'];
  return [...new Set([...phrases, ...server])];
}

/** The text a person sees on the page (open `<details>` included, form values excluded). */
const visibleText = (page) => page.evaluate(() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  return document.body.innerText;
});

/** Phrases found in `text`, except in user data lines named by `allow`. */
function english(text, phrases, allow) {
  const lines = text.split('\n').filter((l) => !allow.some((a) => a.test(l)));
  const body = lines.join('\n');
  return phrases.filter((p) => body.includes(p));
}

/** Lines that are user data: the directory's titles, the sample records' text. */
const ALLOW = [/Salesperson|Sales manager|Purchaser|Warehouse admin|Approver|Administrator|Auditor/, /Eastwind|Prefers|Nanjing|Trading|calls/];

test('zh-CN: no English left on any console tab or the form page', async () => {
  const phrases = await englishPhrases();
  await withBrowser(async ({ open, s }) => {
    const page = await open(`/admin#token=${s.token}`);
    await page.evaluate(() => localStorage.setItem('fieldgate-lang', 'zh'));
    await page.reload();
    await page.waitForSelector('[role=tab]');
    const found = {};
    for (const tab of ['matrix', 'roles', 'templates', 'people', 'org', 'rules', 'flows', 'publish', 'activity', 'reviews', 'admins']) {
      await page.click(`[data-tab=${tab}]`);
      await page.waitForTimeout(400);
      if (tab === 'people') {
        await page.locator('ul.people [data-person=u-alice]').click();
        await page.waitForSelector('h3[data-person=u-alice]');
      }
      if (tab === 'flows') {
        await page.getByLabel('资源', { exact: true }).selectOption('inbound_order');
        await page.waitForSelector('[data-step-id=finance] [data-signer]');
      }
      if (tab === 'publish') {
        // A change to see in words: the Sales department given the admin role.
        await s.call('PUT', '/v1/apps/acme-erp/draft', { document: { ...(await s.call('GET', '/v1/apps/acme-erp/versions/1')).json.document, assignments: { ...(await s.call('GET', '/v1/apps/acme-erp/versions/1')).json.document.assignments, departments: { warehouse: ['warehouse_admin'], sales: ['admin'] } } }, base: 1 });
        await page.reload();
        await page.waitForSelector('[role=tab]');
        await page.click('[data-tab=publish]');
        await page.getByRole('button', { name: '查看变化' }).click();
        await page.waitForSelector('[data-testid=diff] section.cause');
      }
      const hits = english(await visibleText(page), phrases, ALLOW);
      if (tab === 'roles') {
        // Single words too: the actions a grant ticks are said in Chinese.
        const ticks = await page.locator('fieldset.grant .checks label').allInnerTexts();
        hits.push(...ticks.filter((x) => /^(view|create|edit|delete|export|transfer)$/.test(x.trim())));
      }
      if (hits.length) found[tab] = hits;
      await shots(page, `zh-${tab}`);
    }
    const form = await open('/');
    await form.evaluate(() => localStorage.setItem('fieldgate-lang', 'zh'));
    await form.reload();
    await form.waitForSelector('[data-testid=records] li');
    await form.locator('[data-testid=records] li').first().click();
    await form.waitForSelector('[data-field=phone]');
    const hits = english(await visibleText(form), phrases, ALLOW);
    if (hits.length) found.form = hits;
    assert.deepEqual(found, {}, `English on zh-CN pages:\n${JSON.stringify(found, null, 1)}`);
  });
});
