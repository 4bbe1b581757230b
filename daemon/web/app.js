/* persistd status page: reads /api/status (the control API's status answer)
 * and /api/records (what records.generate answers), and draws them. Built
 * with DOM calls only (no innerHTML), so no value from the daemon is ever
 * parsed as markup. Refreshes every 60 seconds. */
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const DAY = 86400;
const LEVELS = ['OK', 'WARNING', 'CRITICAL', 'ERROR'];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function day(t) {
  return t ? new Date(t * 1000).toISOString().slice(0, 10) : '-';
}

function daysLeft(t, now) {
  return t ? Math.floor((t - now) / DAY) : null;
}

function levelBadge(level) {
  return el('span', { class: 'badge level-' + (level || 'OK').toLowerCase() }, level || 'OK');
}

/* ---- copy ---- */

function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}

function copyButton(code) {
  const b = el('button', { type: 'button', class: 'copy' }, 'Copy');
  b.addEventListener('click', () => {
    const done = (ok) => {
      b.textContent = ok ? 'Copied' : 'Selected: press Ctrl+C';
      setTimeout(() => { b.textContent = 'Copy'; }, 2000);
    };
    /* navigator.clipboard needs a secure context (loopback counts); else
     * select the text so that the user's own copy takes it. */
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.textContent).then(() => done(true), () => {
        selectText(code);
        done(false);
      });
    } else {
      selectText(code);
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      done(ok);
    }
  });
  return b;
}

/* ---- table ---- */

function renderTable(st) {
  const tbody = document.querySelector('#names tbody');
  const now = st.now;
  tbody.replaceChildren();
  for (const c of st.cert_list || []) {
    const nl = daysLeft(c.not_after, now);
    tbody.append(el('tr', { class: 'cert-row' },
      el('td', { class: 'cert' }, c.name),
      el('td', { class: 'muted' }, '(certificate, ' + c.ca + ')'),
      el('td', {}, levelBadge(c.cert_level)),
      el('td', {}, c.renewing ? 'RENEWING' : (c.has_cert ? 'ISSUED' :
        (c.state === 'waiting-for-record' ? 'WAITING-FOR-RECORD' : 'NONE'))),
      el('td', {}, day(c.not_after)),
      el('td', { class: 'num' }, nl === null ? '-' : nl),
      el('td', {}, c.renewing ? 'now' : day(c.next_renewal))));
    if (c.last_error)
      tbody.append(el('tr', { class: 'reason' }, el('td', {}),
        el('td', { colspan: '6' }, 'Last error: ' + c.last_error)));
    const sv = c.served;
    if (sv) {
      tbody.append(el('tr', {},
        el('td', {}, ''),
        el('td', { class: 'muted' }, '(served ' + sv.target + ')'),
        el('td', {}, levelBadge(sv.level)),
        el('td', {}, !sv.checked ? 'UNCHECKED' : sv.error ? 'NO_ANSWER' :
          sv.matches ? 'CURRENT' : sv.stale ? 'STALE' : 'OTHER'),
        el('td', {}, day(sv.not_after)),
        el('td', { class: 'num' }, '-'),
        el('td', {}, day(sv.next_check))));
      if (sv.checked && !sv.matches && sv.reason)
        tbody.append(el('tr', { class: 'reason' }, el('td', {}),
          el('td', { colspan: '6' }, sv.reason)));
    }
    for (const n of c.names || []) {
      tbody.append(el('tr', {},
        el('td', {}, ''),
        el('td', { class: 'name' }, n.name),
        el('td', {}, levelBadge(n.level)),
        el('td', {}, n.status),
        el('td', {}, n.persist_until ? day(n.persist_until) :
          (n.checked && n.record ? 'no persistUntil' : '-')),
        el('td', { class: 'num' }, n.days_left === null ? '-' : n.days_left),
        el('td', {}, day(n.next_check))));
      if (n.level !== 'OK' && n.level_reason)
        tbody.append(el('tr', { class: 'reason' }, el('td', {}),
          el('td', { colspan: '6' }, n.level_reason)));
    }
  }
}

/* ---- records ---- */

function renderRecords(st, records) {
  const box = document.getElementById('records');
  box.replaceChildren();
  const found = new Map();
  for (const c of st.cert_list || [])
    for (const n of c.names || [])
      found.set(c.name + '\u0000' + n.name, n);
  for (const r of records || []) {
    const n = found.get(r.cert + '\u0000' + r.name) || {};
    const value = r.value || n.record;
    const card = el('div', { class: 'record' },
      el('div', { class: 'record-head' },
        el('span', { class: 'name' }, r.name), ' ', levelBadge(n.level),
        el('span', { class: 'muted' }, ' cert ' + r.cert + (r.wildcard_needed ?
          ', policy=wildcard needed' : ''))),
      el('div', { class: 'owner' }, 'TXT at ', el('code', {}, r.owner || n.owner || '?')));
    if (value) {
      const code = el('code', { class: 'value' }, value);
      card.append(el('div', { class: 'value-row' }, code, copyButton(code)));
      if (n.record && r.value && n.record !== r.value)
        card.append(el('div', { class: 'note' },
          'DNS has a different value today: ', el('code', {}, n.record)));
    } else {
      card.append(el('div', { class: 'note' },
        'The CA account is not known yet: run "persistctl record ' + r.cert + '".'));
    }
    box.append(card);
  }
  if (!box.childElementCount)
    box.append(el('p', { class: 'muted' }, 'No dns-persist-01 names configured.'));
}

/* ---- timeline ---- */

function renderTimeline(st) {
  const box = document.getElementById('timeline');
  const now = st.now;
  const rows = [];
  for (const c of st.cert_list || []) {
    if (c.not_after)
      rows.push({ label: c.name + ' (cert)', t: c.not_after, level: c.cert_level,
                  kind: 'cert' });
    for (const n of c.names || [])
      if (n.persist_until)
        rows.push({ label: n.name, t: n.persist_until, level: n.level, kind: 'record' });
  }
  box.replaceChildren();
  if (!rows.length) {
    box.append(el('p', { class: 'muted' }, 'Nothing with an end date yet.'));
    return;
  }
  rows.sort((a, b) => a.t - b.t);
  /* A fleet has thousands of names: draw the soonest, say how many more. */
  const MAX_ROWS = 150;
  const hidden = rows.length > MAX_ROWS ? rows.splice(MAX_ROWS) : [];
  const maxT = Math.max(now + 30 * DAY, ...rows.map((r) => r.t), now + st.warn_before);
  const W = 1000, left = 260, right = 30, rowH = 26, top = 34;
  const H = top + rows.length * rowH + 16;
  const x = (t) => left + (Math.max(t, now) - now) / (maxT - now) * (W - left - right);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img',
                         'aria-label': 'expiry timeline', id: 'timeline-svg' });
  /* Month ticks, or weekly ones for short ranges. */
  const span = maxT - now, step = span > 120 * DAY ? 30 * DAY : (span > 40 * DAY ? 7 * DAY : DAY * 2);
  for (let t = now; t <= maxT; t += step) {
    g.append(svg('line', { x1: x(t), x2: x(t), y1: top - 6, y2: H - 10, class: 'grid' }));
    g.append(svg('text', { x: x(t), y: top - 12, class: 'tick' }, day(t).slice(5)));
  }
  const band = (from, to, cls) => g.append(svg('rect', { x: x(from), y: top - 4,
    width: Math.max(0, x(to) - x(from)), height: H - top - 6, class: cls }));
  band(now, now + st.critical_before, 'band-critical');
  band(now + st.critical_before, now + st.warn_before, 'band-warning');
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    g.append(svg('text', { x: left - 10, y: y + 15, class: 'label ' + r.kind }, r.label));
    g.append(svg('rect', { x: left, y: y + 4, width: Math.max(2, x(r.t) - left), height: 14,
                           rx: 3, class: 'bar ' + r.kind + ' level-' + r.level.toLowerCase() }));
    /* The date goes after the bar, or inside its end when there is no room. */
    const label = day(r.t) + ' (' + daysLeft(r.t, now) + ' d)';
    const inside = x(r.t) + 8 + 7 * label.length > W;
    g.append(svg('text', { x: inside ? x(r.t) - 6 : x(r.t) + 6, y: y + 15,
                           class: inside ? 'date inside' : 'date' }, label));
  });
  g.append(svg('line', { x1: left, x2: left, y1: top - 6, y2: H - 10, class: 'now' }));
  box.append(g);
  if (hidden.length)
    box.append(el('p', { class: 'muted' }, '... and ' + hidden.length +
      ' more ending later, the first on ' + day(hidden[0].t) + ' (see the table).'));
  box.append(el('p', { class: 'legend' },
    el('span', { class: 'key key-cert' }), ' certificate notAfter',
    el('span', { class: 'key key-record' }), ' record persistUntil',
    el('span', { class: 'key key-warning' }), ' at WARNING',
    el('span', { class: 'key key-critical' }), ' at CRITICAL or ERROR',
    el('span', { class: 'key key-band' }), ' within critical_before / warn_before'));
}

/* ---- main ---- */

async function load() {
  try {
    const [sr, rr] = await Promise.all([fetch('/api/status'), fetch('/api/records')]);
    if (!sr.ok) throw new Error('/api/status: HTTP ' + sr.status);
    const st = await sr.json();
    const records = rr.ok ? await rr.json() : [];
    const summary = document.getElementById('summary');
    summary.replaceChildren(levelBadge(st.level), ' ', st.summary);
    document.title = 'persistd: ' + st.level;
    renderTimeline(st);
    renderTable(st);
    renderRecords(st, records);
    document.getElementById('footer').textContent =
      'persistd ' + st.version + ', as of ' + new Date(st.now * 1000).toISOString() +
      ' (refreshes every minute). Also: /metrics, /api/status.';
    document.body.dataset.loaded = 'yes';
  } catch (e) {
    document.getElementById('summary').textContent = 'Cannot load the status: ' + e.message;
  }
}

load();
setInterval(load, 60000);
