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

/** An order's approval status: a choice the form shows by its words (the flow moves it; the
 * form never lets anyone pick it). */
const status = (...extra) => ({
  type: 'string', title: { en: 'Approval status', zh: '审批状态' },
  oneOf: [['draft', 'Draft', '草稿'], ['pending', 'Pending approval', '待审批'], ['approved', 'Approved', '已审批'], ['rejected', 'Rejected', '已驳回'], ...extra]
    .map(([v, en, zh]) => ({ const: v, title: { en, zh } })),
});

/** JSON schemas of the demo forms (what a form builder would store), titles in both languages. */
export const SCHEMAS = {
  customer: {
    title: { en: 'Customer', zh: '客户' }, type: 'object',
    properties: {
      name: { type: 'string', title: { en: 'Customer name', zh: '客户名称' } }, company: { type: 'string', title: { en: 'Company', zh: '公司' } },
      phone: { type: 'string', title: { en: 'Phone', zh: '电话' } }, email: { type: 'string', title: { en: 'Email', zh: '邮箱' } },
      id_number: { type: 'string', title: { en: 'ID number', zh: '身份证号' } }, address: { type: 'string', title: { en: 'Address', zh: '地址' } },
      tier: { type: 'string', title: { en: 'Tier', zh: '等级' }, enum: ['silver', 'gold', 'vip'] },
      credit_limit: { type: 'number', title: { en: 'Credit limit', zh: '信用额度' } }, bank_account: { type: 'string', title: { en: 'Bank account', zh: '银行账号' } },
      notes: { type: 'string', title: { en: 'Notes', zh: '备注' } },
    },
  },
  contact: {
    title: { en: 'Contact', zh: '联系人' }, type: 'object',
    properties: {
      name: { type: 'string', title: { en: 'Name', zh: '姓名' } }, title: { type: 'string', title: { en: 'Title', zh: '职务' } },
      phone: { type: 'string', title: { en: 'Phone', zh: '电话' } }, email: { type: 'string', title: { en: 'Email', zh: '邮箱' } },
    },
  },
  inbound_order: {
    title: { en: 'Inbound order', zh: '入库单' }, type: 'object',
    properties: {
      order_no: { type: 'string', title: { en: 'Order no.', zh: '单号' } }, supplier: { type: 'string', title: { en: 'Supplier', zh: '供应商' } },
      supplier_phone: { type: 'string', title: { en: 'Supplier phone', zh: '供应商电话' } },
      warehouse: { type: 'string', title: { en: 'Warehouse', zh: '仓库' } }, sku: { type: 'string', title: { en: 'SKU', zh: '商品编码' } },
      quantity: { type: 'number', title: { en: 'Quantity', zh: '数量' } }, unit_price: { type: 'number', title: { en: 'Unit price', zh: '单价' } },
      total_amount: { type: 'number', title: { en: 'Total amount', zh: '总金额' } }, status: status(['received', 'Received', '已入库']),
      approver_comment: { type: 'string', title: { en: 'Approver comment', zh: '审批意见' } },
    },
  },
  outbound_order: {
    title: { en: 'Outbound order', zh: '出库单' }, type: 'object',
    properties: {
      order_no: { type: 'string', title: { en: 'Order no.', zh: '单号' } }, customer: { type: 'string', title: { en: 'Customer', zh: '客户' } },
      warehouse: { type: 'string', title: { en: 'Warehouse', zh: '仓库' } }, sku: { type: 'string', title: { en: 'SKU', zh: '商品编码' } },
      quantity: { type: 'number', title: { en: 'Quantity', zh: '数量' } }, total_amount: { type: 'number', title: { en: 'Total amount', zh: '总金额' } },
      status: status(['shipped', 'Shipped', '已出库']),
    },
  },
};
