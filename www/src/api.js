// Small helpers over the server's JSON API, shared by the form and admin pages. Every request
// says the page's language, so the server's words (diffs) come in it.

import { lang } from './i18n.js';

/** JSON request; throws an Error carrying the server's `code` (and body) on failure. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      'accept-language': lang === 'zh' ? 'zh-CN' : 'en',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? (res.headers.get('content-type') || '').includes('json') ? JSON.parse(text) : text : null;
  if (!res.ok) {
    const err = new Error((data && data.message) || `${res.status} ${res.statusText}`);
    err.code = data && data.code;
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

/** The app the demo pages work on. */
export const APP = 'acme-erp';

/** JSON schemas of the demo forms (what a form builder would store). */
export const SCHEMAS = {
  customer: {
    title: 'Customer', type: 'object',
    properties: {
      name: { type: 'string', title: 'Customer name' }, company: { type: 'string', title: 'Company' },
      phone: { type: 'string', title: 'Phone' }, email: { type: 'string', title: 'Email' },
      id_number: { type: 'string', title: 'ID number' }, address: { type: 'string', title: 'Address' },
      tier: { type: 'string', title: 'Tier', enum: ['silver', 'gold', 'vip'] },
      credit_limit: { type: 'number', title: 'Credit limit' }, bank_account: { type: 'string', title: 'Bank account' },
      notes: { type: 'string', title: 'Notes' },
    },
  },
  inbound_order: {
    title: 'Inbound order', type: 'object',
    properties: {
      order_no: { type: 'string', title: 'Order no.' }, supplier: { type: 'string', title: 'Supplier' },
      warehouse: { type: 'string', title: 'Warehouse' }, sku: { type: 'string', title: 'SKU' },
      quantity: { type: 'number', title: 'Quantity' }, unit_price: { type: 'number', title: 'Unit price' },
      total_amount: { type: 'number', title: 'Total amount' }, status: { type: 'string', title: 'Approval status' },
      approver_comment: { type: 'string', title: 'Approver comment' },
    },
  },
};
