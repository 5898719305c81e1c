// fieldgate/amis through the real amis renderer (the amis SDK build) in headless Chromium:
// what the user sees, what they can edit, and what the form submits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serve, launch } from './chromium.mjs';

const root = new URL('.', import.meta.url).pathname;
const other = { id: 'c-2', owner_id: 'u-bob', department: 'sales-west', name: 'Zhang Wei', phone: '13755554444', credit_limit: 150000, notes: 'n' };
const own = { ...other, id: 'c-1', owner_id: 'u-alice', department: 'sales-east', phone: '13812345678', credit_limit: 500000 };

test('amis renders fieldgate states: hidden gone, read-only static, masked shown, only editable submitted', async () => {
  const server = await serve((path) => join(root, path === '/' ? 'amis-page.html' : path.slice(1)));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
    const render = async (record, mode) => {
      await page.evaluate(([r, m]) => window.fg.render(r, m), [record, mode]);
      await page.waitForSelector('[data-amis-name=name]');
    };
    const text = () => page.$eval('#root', (e) => e.innerText);
    const controls = (name) => page.$$(`#root [name=${name}]`);

    // Another rep's customer, view: credit limit hidden, phone masked, the rest static.
    await render(other, 'view');
    assert.equal(await page.$('[data-amis-name=credit_limit]'), null, 'hidden field not rendered');
    assert.doesNotMatch(await text(), /150,?000/);
    assert.match(await text(), /137\*+4444/, 'masked value shown');
    assert.doesNotMatch(await text(), /13755554444/);
    for (const name of ['name', 'phone', 'notes']) assert.equal((await controls(name)).length, 0, `${name} is static`);

    // Own customer, edit: credit limit read-only (static text, no control), the rest editable.
    await render(own, 'edit');
    assert.equal((await controls('credit_limit')).length, 0, 'read-only field has no control');
    assert.match(await page.$eval('[data-amis-name=credit_limit]', (e) => e.innerText), /500,000/);
    await page.fill('#root input[name=name]', 'Zhang Wei Ltd');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForFunction(() => window.fg.sent.length === 1);
    const [sent] = await page.evaluate(() => window.fg.sent);
    assert.equal(sent.method, 'put');
    assert.equal(sent.url, '/v1/data/customer/c-1');
    assert.deepEqual(sent.data, { name: 'Zhang Wei Ltd', phone: '13812345678', notes: 'n' }, 'only editable fields submitted');

    // A new bundle (phone hidden for readers) changes what is rendered.
    assert.equal(await page.evaluate(() => window.fg.update('/bundles/v5-phone-hidden.json')), 5);
    await render(other, 'view');
    assert.equal(await page.$('[data-amis-name=phone]'), null);
    assert.doesNotMatch(await text(), /137/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
