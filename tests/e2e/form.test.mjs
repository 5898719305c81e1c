// End-to-end tests of the form page (www/index.html) in headless Chromium against a real
// `fieldgate serve`. Screenshots go to target/e2e-artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { withBrowser, shots, pick, policy } from './helpers.mjs';

/** The form page of a fresh server, logged in as the first person. */
async function formPage(open) {
  const page = await open('/');
  await page.waitForSelector('[data-testid=records] button');
  return page;
}
/** Switches the form page to user `id` and waits for that user's workspace. */
const asUser = async (page, id) => {
  await pick(page, 'User', id);
  await page.waitForSelector(`[data-testid=workspace][data-user=${id}]`);
};
const field = (page, name) => page.locator(`[data-field=${name}]`);

test('form: hidden, masked and read-only fields; why?; scope; live version switch', async () => {
  await withBrowser(async ({ open, s }) => {
    const page = await formPage(open);
    await asUser(page, 'u-alice');
    await page.locator('[data-id=c-1003]').click();
    await page.waitForSelector('[data-field=phone]');
    assert.equal(await field(page, 'credit_limit').count(), 0, 'hidden field is not rendered');
    assert.doesNotMatch(await page.content(), /150000|13755554444/, 'no hidden or unmasked value in the page');
    const phone = page.locator('#root_phone');
    assert.match(await phone.inputValue(), /^137\*+4444$/);
    assert.equal(await phone.getAttribute('readonly') !== null || await phone.isDisabled(), true);
    await field(page, 'phone').getByRole('button', { name: /why/i }).click();
    assert.match(await field(page, 'phone').locator('.explain').innerText(), /masked: set by template customer_reader/);
    assert.equal(await page.getByTestId('eval-time').count(), 0, 'no developer text for people');
    assert.match(await page.getByTestId('bundle-status').innerText(), /policy v1.*expires.*permissions up to date/s);
    await shots(page, 'form-customer');

    await pick(page, 'Form', 'inbound_order');
    await page.waitForSelector('text=Nothing in your scope.');
    await pick(page, 'Form', 'customer');
    await page.locator('[data-id=c-1003]').click();
    const next = structuredClone(policy);
    next.templates.customer_reader[0].fields.phone = 'hidden';
    await s.publish(next);
    await page.waitForSelector('[data-testid=version]:has-text("policy v2")');
    await page.waitForFunction(() => !document.querySelector('[data-field=phone]'));
  });
});

test('form: a slow answer for the form picked before does not replace the list of the one picked since', async () => {
  await withBrowser(async ({ open, ctx }) => {
    const page = await formPage(open);
    await asUser(page, 'u-alice');
    let release;
    const held = new Promise((r) => { release = r; });
    await ctx.route('**/v1/data/customer', async (route) => { await held; await route.continue(); });
    await pick(page, 'Form', 'inbound_order');
    await page.waitForSelector('text=Nothing in your scope.');
    await pick(page, 'Form', 'customer');
    const last = page.waitForResponse('**/v1/data/inbound_order');
    await pick(page, 'Form', 'inbound_order');
    await last;
    const late = page.waitForResponse('**/v1/data/customer');
    release();
    await late;
    await page.waitForTimeout(300);
    assert.equal(await page.locator('[data-testid=records] button').count(), 0, 'the inbound-order list stays');
    assert.equal(await page.getByLabel('Form', { exact: true }).inputValue(), 'inbound_order');
  });
});

test('form: edit own record saves; read-only and forbidden writes are refused by the server', async () => {
  await withBrowser(async ({ open }) => {
    const page = await formPage(open);
    await asUser(page, 'u-alice');
    await page.locator('[data-id=c-1001]').click();
    await pick(page, 'Mode', 'edit');
    await page.waitForSelector('#root_notes');
    assert.equal(await page.locator('#root_notes').isEditable(), true);
    assert.equal(await page.locator('#root_credit_limit').isEditable(), false, 'read-only cannot be edited');
    await page.locator('#root_notes').fill('Call on Monday');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('text=Saved c-1001.');
    const res = await page.evaluate(async () => (await fetch('/v1/data/customer/c-1001', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credit_limit: 1 }) })).json());
    assert.deepEqual(res.fields, ['credit_limit']);
  });
});

test('form: the approval buttons show only when allowed and move the order; nobody approves their own', async () => {
  await withBrowser(async ({ open }) => {
    const page = await formPage(open);
    await asUser(page, 'u-dave');
    await pick(page, 'Form', 'inbound_order');
    await page.locator('[data-id=o-2001]').click();
    await page.waitForSelector('[data-testid=steps]');
    assert.equal(await page.locator('[data-action=approve]').count(), 0, 'the creator has no approve button');
    await page.locator('[data-action=submit]').click();
    await page.waitForSelector('text=o-2001 is now pending approval.');
    assert.equal(await page.locator('[data-action=submit]').count(), 0, 'a pending order is not submitted again');
    await shots(page, 'form-order-submitted');

    await asUser(page, 'u-frank');
    await pick(page, 'Form', 'inbound_order');
    await page.locator('[data-id=o-2001]').click();
    await page.waitForSelector('[data-action=approve]');
    await page.getByLabel('Comment (Approve · Manager approval)').fill('ok for this quarter');
    // A slow list read: the page must not say "approved" while it still offers to approve.
    await page.evaluate(() => {
      const fetch0 = window.fetch;
      window.fetch = async (url, init) => {
        if (String(url).endsWith('/v1/data/inbound_order') && (init?.method ?? 'GET') === 'GET') await new Promise((r) => setTimeout(r, 1000));
        return fetch0(url, init);
      };
    });
    await page.locator('[data-action=approve]').click();
    await page.waitForSelector('text=o-2001 is now approved.');
    assert.equal(await page.locator('[data-action=approve]').count(), 0);
    await shots(page, 'form-order-approved');

    await asUser(page, 'u-erin');
    await pick(page, 'Form', 'inbound_order');
    await page.locator('[data-id=o-2001]').click();
    await page.locator('[data-action=receive]').click();
    await page.waitForSelector('text=o-2001 is now received.');
    // The attempts reached the server's log, with the record's id.
    const flushed = await page.evaluate(() => window.__fieldgateFlush());
    assert.ok(flushed >= 1);
  });
});

test('form (zh-CN): the two-step inbound approval and the outbound flow, walked by each person', async () => {
  await withBrowser(async ({ open }) => {
    const page = await formPage(open);
    await page.evaluate(() => localStorage.setItem('fieldgate-lang', 'zh'));
    await page.reload();
    await page.waitForSelector('[data-testid=records] button');
    const openRecord = async (who, resource, id) => {
      await asUser(page, who);
      await pick(page, 'Form', resource);
      await page.locator(`[data-id=${id}]`).click();
      await page.waitForSelector('[data-testid=form]');
    };
    const moved = (id, status) => page.waitForSelector(`text=${id} 现在是 ${status}。`);
    // 54,000: above 50,000 the approval waits for the manager, then finance.
    await openRecord('u-dave', 'inbound_order', 'o-2007');
    await page.locator('[data-action=submit]').click();
    await moved('o-2007', '待审批');
    await openRecord('u-judy', 'inbound_order', 'o-2007');
    await page.waitForSelector('[data-testid=flow]');
    assert.match(await page.getByTestId('flow').innerText(), /部门主管审批: 待签/);
    assert.equal(await page.locator('[data-action=approve]').count(), 0, 'finance waits for the manager');
    await openRecord('u-frank', 'inbound_order', 'o-2007');
    const manager = page.locator('[data-action=approve]');
    assert.match(await manager.innerText(), /部门主管审批/);
    await manager.click();
    await moved('o-2007', '待审批');
    await openRecord('u-judy', 'inbound_order', 'o-2007');
    assert.match(await page.getByTestId('flow').innerText(), /部门主管审批: 已签/);
    const finance = page.locator('[data-action=approve]');
    assert.match(await finance.innerText(), /财务审批/);
    await shots(page, 'form-flow-finance-zh');
    await finance.click();
    await moved('o-2007', '已审批');
    // A rejection needs a reason; the submitter never judges their own order.
    await openRecord('u-frank', 'inbound_order', 'o-2002');
    const reject = page.locator('[data-action=reject]');
    assert.equal(await reject.isDisabled(), true, 'no comment, no rejection');
    await page.getByLabel('意见 (驳回)').fill('数量不对');
    await reject.click();
    await moved('o-2002', '已驳回');
    await openRecord('u-frank', 'inbound_order', 'o-2005');
    assert.equal(await page.locator('[data-action=approve]').count(), 0, 'Frank submitted o-2005');
    // The outbound order's own flow: the salesperson submits, the warehouse checks and ships.
    await openRecord('u-alice', 'outbound_order', 's-3001');
    await page.locator('[data-action=submit]').click();
    await moved('s-3001', '待审批');
    await openRecord('u-erin', 'outbound_order', 's-3001');
    assert.match(await page.locator('[data-action=approve]').innerText(), /仓库确认/);
    await page.locator('[data-action=approve]').click();
    await moved('s-3001', '已审批');
    await openRecord('u-erin', 'outbound_order', 's-3001');
    await page.locator('[data-action=ship]').click();
    await moved('s-3001', '已出库');
    await shots(page, 'form-outbound-zh');
  });
});

test('form: the export downloads what each user may export, masked like the screen', async () => {
  await withBrowser(async ({ open }) => {
    const page = await formPage(open);
    await asUser(page, 'u-alice');
    assert.equal(await page.getByTestId('export').count(), 0, 'no export right, no button');
    const download = async () => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
      return (await readFile(await d.path(), 'utf8')).replace(/^\uFEFF/, '');
    };
    await asUser(page, 'u-bob');
    const bobs = await download();
    await asUser(page, 'u-heidi');
    const heidis = await download();
    // Every CSV cell is quoted (so `;` locales keep cells whole); ids hold no quote or comma.
    const ids = (csv) => csv.trim().split('\n').slice(1).map((l) => l.split(',')[0].replaceAll('"', ''));
    assert.deepEqual(ids(bobs), ['c-1003'], 'bob exports his own customer only');
    assert.deepEqual(ids(heidis), ['c-1001', 'c-1002', 'c-1003', 'c-1004']);
    assert.notEqual(bobs, heidis);
    assert.match(heidis.split('\n')[0], /^"id",/);
    assert.match(heidis, /\*{4}/, 'masked values stay masked in the file');
    await shots(page, 'form-export');
  });
});

test('form: a tampered bundle is refused with a visible error and the old policy stays', async () => {
  await withBrowser(async ({ open, s, ctx }) => {
    await ctx.route('**/bundle?for=me', async (route) => {
      const res = await route.fetch();
      if (res.status() !== 200 || res.headers()['x-fieldgate-version'] === '1') return route.fulfill({ response: res });
      // The page asks for the binary form: one byte of its signed body changed (the frame
      // stays whole), so the signature no longer holds.
      const body = Buffer.from(await res.body());
      assert.equal(body.subarray(0, 3).toString(), 'FGB');
      body[body.length >> 1] ^= 0x01;
      return route.fulfill({ status: 200, contentType: 'application/octet-stream', body });
    });
    const page = await formPage(open);
    const next = structuredClone(policy);
    next.templates.customer_reader[0].fields.phone = 'hidden';
    await s.publish(next);
    await page.waitForSelector('[data-testid=error]:has-text("Bundle refused")');
    assert.match(await page.getByTestId('version').innerText(), /policy v1/);
    await shots(page, 'form-refused');
  }, { options: { serviceWorkers: 'block' } });
});

test('form: works offline after a reload, shows the badge, queues decisions until online', async () => {
  await withBrowser(async ({ open, ctx, s }) => {
    const page = await formPage(open);
    await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active !== null);
    await page.reload();
    await page.waitForSelector('[data-testid=records] button');
    await ctx.setOffline(true);
    await page.reload();
    await page.waitForSelector('[data-testid=records] button', { timeout: 20000 });
    assert.equal(await page.locator('#net').innerText(), 'offline');
    await page.evaluate(() => window.__fieldgateLog.append({ subject: 'u-alice', action: 'edit', resource: 'customer', allow: true, version: 1, at: Date.now(), kind: 'attempt', record: 'c-1001' }));
    const pending = await page.evaluate(async () => (await window.__fieldgateLog.pending()).length);
    assert.ok(pending >= 1, 'queued while offline');
    await shots(page, 'form-offline');
    await ctx.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForFunction(async () => (await window.__fieldgateLog.pending()).length === 0, null, { timeout: 20000 });
    const stored = (await s.call('GET', '/v1/decisions')).json;
    assert.ok(stored.decisions.length >= 1);
    assert.deepEqual(new Set(stored.decisions.map((d) => d.link)), new Set(['ok']), JSON.stringify(stored.decisions));
  });
});

test('form: the Chinese page', async () => {
  await withBrowser(async ({ open }) => {
    const page = await open('/');
    await page.evaluate(() => localStorage.setItem('fieldgate-lang', 'zh'));
    await page.reload();
    await page.waitForSelector('[data-testid=records] button');
    assert.match(await page.locator('main').innerText(), /你范围内的记录/);
    await page.locator('[data-testid=records] button').first().click();
    await page.waitForSelector('[data-field]');
    assert.match(await page.locator('[data-testid=form]').innerText(), /查看/);
    await shots(page, 'form-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.waitForSelector('text=Records in your scope');
  });
});

test('form: the team lead edits his reports\' customers; sharing lets a colleague edit; contacts follow their customer', async () => {
  await withBrowser(async ({ open }) => {
    const page = await formPage(open);
    // Ivan leads Alice (sales-east) and Bob (sales-west): their customers are his to edit,
    // Carol's (his own manager's) only to read.
    await asUser(page, 'u-ivan');
    await pick(page, 'Mode', 'edit');
    await page.locator('[data-id=c-1003]').click();
    await page.waitForSelector('#root_notes');
    assert.equal(await page.locator('#root_notes').isEditable(), true, "Bob's customer (another department)");
    await page.locator('[data-id=c-1004]').click();
    await page.waitForSelector('[data-testid=not-allowed]');
    assert.equal(await page.locator('#root_notes').isEditable(), false, "Carol's customer");
    await page.locator('[data-id=c-1001]').click();
    await page.waitForSelector('#root_notes:not([readonly])');
    await shots(page, 'form-team-lead');

    // Alice shares Liu Yang (c-1002) with Bob through the person picker.
    await asUser(page, 'u-bob');
    await pick(page, 'Mode', 'edit');
    await page.locator('[data-id=c-1002]').click();
    await page.waitForSelector('[data-testid=not-allowed]');
    await asUser(page, 'u-alice');
    await page.locator('[data-id=c-1002]').click();
    await page.waitForSelector('[data-testid=sharing]');
    assert.match(await page.getByTestId('sharing').innerText(), /Not shared with anyone/);
    await page.getByLabel('Share with a colleague').fill('sales-west');
    await page.locator('[data-testid=people-found] button[data-id=u-bob]').click();
    await page.waitForSelector('[data-testid=members] li[data-id=u-bob]');
    assert.match(await page.getByTestId('sharing').innerText(), /Bob Li \(u-bob · sales-west\)/);
    await shots(page, 'form-sharing');
    await asUser(page, 'u-bob');
    await pick(page, 'Mode', 'edit');
    await page.locator('[data-id=c-1002]').click();
    await page.waitForSelector('#root_notes');
    assert.equal(await page.getByTestId('not-allowed').count(), 0, 'shared with him now');
    assert.equal(await page.locator('#root_notes').isEditable(), true);
    assert.equal(await page.locator('#root_phone').isEditable(), false, 'a collaborator edits the notes only');
    assert.equal(await page.getByLabel('Share with a colleague').count(), 0, 'only who may share sees the picker');
    await page.locator('#root_notes').fill('Bob called back');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('text=Saved c-1002');

    // Contacts follow their customer: Bob edits the contact of a customer he owns or shares,
    // not of Carol's; Dave (purchasing) sees no contacts.
    await pick(page, 'Form', 'contact');
    await page.waitForSelector('[data-testid=records] [data-id=ct-3004]');
    assert.match(await page.locator('[data-id=ct-3003]').innerText(), /Chen Jing/, 'the customer shown with its contact');
    await page.locator('[data-id=ct-3003]').click();
    await page.waitForSelector('#root_title');
    assert.equal(await page.locator('#root_title').isEditable(), true, 'his own customer\'s contact');
    await page.locator('[data-id=ct-3004]').click();
    await page.waitForSelector('[data-testid=not-allowed]');
    await shots(page, 'form-contacts');
    await asUser(page, 'u-dave');
    await pick(page, 'Form', 'contact');
    await page.waitForSelector('text=Nothing in your scope.');
  });
});

test("form: a partner (Shenzhen Parts' account manager) sees only their organisation's inbound orders, the phone masked, nothing to export", async () => {
  await withBrowser(async ({ open, s }) => {
    const page = await formPage(open);
    await asUser(page, 'u-kim');
    await pick(page, 'Form', 'inbound_order');
    await page.waitForSelector('[data-testid=records] [data-id]');
    const ids = await page.locator('[data-testid=records] [data-id]').evaluateAll((b) => b.map((x) => x.dataset.id));
    assert.deepEqual(ids, ['o-2001'], 'only the order of their own organisation');
    assert.equal(await page.getByTestId('export').count(), 0, 'no export');
    await page.locator('[data-id=o-2001]').click();
    await page.waitForSelector('[data-field=supplier_phone]');
    assert.match(await page.locator('#root_supplier_phone').inputValue(), /^139\*+6789$/);
    assert.equal(await field(page, 'unit_price').count(), 0, 'prices are hidden from the partner');
    assert.doesNotMatch(await page.content(), /13923456789|12\.5|6250/, 'no hidden or unmasked value in the page');
    await shots(page, 'form-partner');
    // The server agrees: another organisation's order is not found, the list holds theirs only.
    const login = await fetch(`${s.url}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: s.url }, body: JSON.stringify({ user: 'u-kim' }) });
    const cookie = login.headers.get('set-cookie').split(';')[0];
    assert.equal((await fetch(`${s.url}/v1/data/inbound_order/o-2002`, { headers: { cookie } })).status, 404);
    // An internal role given to the partner by the admin changes nothing for them.
    const next = structuredClone(policy);
    next.assignments.users['u-kim'] = { roles: ['auditor'] };
    await s.publish(next);
    await page.waitForSelector('[data-testid=version]:has-text("policy v2")');
    assert.equal((await fetch(`${s.url}/v1/data/inbound_order/o-2002`, { headers: { cookie } })).status, 404);
    assert.equal(await page.getByTestId('export').count(), 0, 'still no export');
  });
});
