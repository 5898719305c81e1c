// The first decision on a phone, fieldgate against CASL on the same page shape, in one run:
// headless Chromium through CDP with Lighthouse's mobile profile (CPU 4x slower, 150 ms round
// trip, 1.6 Mbps down, 750 kbps up), a gzip static server on loopback, cold loads (a new
// browser context: empty cache) and warm ones (a reload in the same context), median of 5.
//   node benches/mobile/bench.mjs <site dir> [runs]
// Prints a Markdown table (ms): the first decision after navigation, and bundle (or rules)
// text in hand -> first decision.
import { createRequire } from 'node:module';
import { serve } from './serve.mjs';

const [site, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const require = createRequire(new URL('../../www/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const MOBILE = { latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

async function throttled(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, ...MOBILE });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
}

async function measure(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 120000 });
  return page.evaluate(() => window.result);
}

/** One load with an empty cache, and one reload from a warm cache. */
async function coldAndWarm(browser, url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await throttled(context, page);
    const cold = await measure(page, url);
    const warm = await measure(page, url);
    return { cold, warm };
  } finally {
    await context.close();
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const server = await serve(site);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'],
});
try {
  const peers = {
    fieldgate: `${server.url}/fieldgate.html`,
    'fieldgate, not preloaded': `${server.url}/fieldgate-late.html`,
    'CASL 7': `${server.url}/casl.html`,
  };
  const got = Object.fromEntries(Object.keys(peers).map((k) => [k, { cold: [], warm: [] }]));
  // The peers alternate, so both see the same machine.
  for (let i = 0; i < runs; i++) {
    for (const [name, url] of Object.entries(peers)) {
      const { cold, warm } = await coldAndWarm(browser, url);
      got[name].cold.push(cold);
      got[name].warm.push(warm);
    }
  }
  const fmt = (ms) => `${Math.round(ms).toLocaleString('en')} ms`;
  const fmt1 = (ms) => (ms < 10 ? `${ms.toFixed(1)} ms` : fmt(ms));
  console.log('| | cold: first decision after navigation | warm: first decision | cold: text in hand -> first decision | warm: text in hand -> first decision |');
  console.log('|---|---|---|---|---|');
  const row = {};
  for (const [name, r] of Object.entries(got)) {
    row[name] = {
      cold: median(r.cold.map((x) => x.first)), warm: median(r.warm.map((x) => x.first)),
      coldIn: median(r.cold.map((x) => x.inHand)), warmIn: median(r.warm.map((x) => x.inHand)),
    };
    const m = row[name];
    console.log(`| ${name} | ${fmt(m.cold)} | ${fmt(m.warm)} | ${fmt1(m.coldIn)} | ${fmt1(m.warmIn)} |`);
  }
  const f = row.fieldgate, c = row['CASL 7'];
  console.log(`\nfieldgate / CASL, cold first decision: ${(f.cold / c.cold).toFixed(2)}x (target <= 1.3x); warm: ${(f.warm / c.warm).toFixed(2)}x`);
  console.log(`answers: fieldgate ${JSON.stringify(got.fieldgate.cold[0].check)}, CASL ${JSON.stringify(got['CASL 7'].cold[0].check)}`);
} finally {
  await browser.close();
  server.close();
}
