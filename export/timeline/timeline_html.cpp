// The HTML timeline: one self-contained page (no network; data, script, style and pictures
// inline). The data sits in a JSON <script> element; the page's script draws lanes on a canvas.
#include <fmt/core.h>

#include <map>

#include "decode/wire/json_writer.h"
#include "export/html/html_escape.h"
#include "export/summary/session_summary.h"
#include "export/timeline/timeline.h"

namespace spicetap::timeline {

namespace {

constexpr std::string_view kStyle = R"CSS(
body{font:13px/1.4 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
header{padding:10px 16px;background:#263238;color:#eee}
header h1{font-size:17px;margin:0 0 4px}
header .sub{color:#b0bec5}
#bar{padding:6px 16px;display:flex;gap:8px;align-items:center;border-bottom:1px solid #ddd;background:#fff}
#bar button{font:inherit;padding:2px 10px}
#range{color:#555;margin-left:8px}
#main{display:flex;gap:12px;padding:10px 16px;align-items:flex-start}
#lanes{flex:1;min-width:0;background:#fff;border:1px solid #ddd}
#timeline{display:block;width:100%;cursor:crosshair}
#side{width:340px;flex:none}
#side h2,section h2{font-size:14px;margin:8px 0 4px}
#thumb{background:#fff;border:1px solid #ddd;padding:6px;min-height:60px}
#thumb img{max-width:100%;display:block;margin:4px 0;border:1px solid #ccc;image-rendering:auto}
#details{background:#fff;border:1px solid #ddd;padding:6px;white-space:pre-wrap;font:12px/1.35 ui-monospace,monospace;max-height:420px;overflow:auto}
section{padding:0 16px 16px}
table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;font-size:12px}
tr.ev{cursor:pointer}
tr.ev:hover{background:#e3f2fd}
.legend span{display:inline-block;margin-right:10px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
)CSS";

constexpr std::string_view kScript = R"JS(
'use strict';
const D = JSON.parse(document.getElementById('data').textContent);
const canvas = document.getElementById('timeline');
const ctx = canvas.getContext('2d');
const LABEL_W = 170, LANE_H = 26, TOP = 34, AXIS_H = 22;
const KIND_COLORS = {
  connection_open:'#2e7d32', connection_close:'#c62828', link_error:'#b71c1c', disconnecting:'#c62828',
  migration:'#6a1b9a', reset:'#ef6c00', surface_create:'#1565c0', surface_destroy:'#0d47a1',
  resolution:'#00838f', monitors_config:'#00838f', stream_start:'#ad1457', stream_stop:'#880e4f',
  capture_gap:'#000000', ping:'#558b2f', ack_stall:'#f9a825', agent:'#4e342e', notify:'#5d4037',
  audio_start:'#283593', audio_stop:'#1a237e', note:'#757575'};
const kindColor = k => KIND_COLORS[k] || '#607d8b';
const lanes = D.lanes;
const laneOfConn = {};
lanes.forEach((l, i) => { if (l.dir === 's2c') laneOfConn[l.conn] = i; });
// Messages per lane, in time order, for binary search.
const perLane = lanes.map(() => []);
D.messages.forEach((m, i) => perLane[m[1]].push(i));
let t0 = D.from, t1 = D.to;
if (!(t1 > t0)) t1 = t0 + 1;
let cursorT = null, dragX = null, dragT0 = 0, dragT1 = 0, selected = null;
const status = document.getElementById('status');

function width() { return canvas.clientWidth; }
function xOf(t) { return LABEL_W + (t - t0) / (t1 - t0) * (width() - LABEL_W - 8); }
function tOf(x) { return t0 + (x - LABEL_W) / (width() - LABEL_W - 8) * (t1 - t0); }
function lowerBound(list, t) {
  let lo = 0, hi = list.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (D.messages[list[mid]][0] < t) lo = mid + 1; else hi = mid; }
  return lo;
}
function fmtT(t) { return t.toFixed(t1 - t0 < 0.01 ? 6 : t1 - t0 < 1 ? 4 : 3) + ' s'; }
function fmtBytes(b) { return b >= 1048576 ? (b / 1048576).toFixed(2) + ' MiB' : b >= 1024 ? (b / 1024).toFixed(1) + ' KiB' : b + ' B'; }

function draw() {
  const dpr = window.devicePixelRatio || 1;
  const h = TOP + lanes.length * LANE_H + AXIS_H;
  canvas.style.height = h + 'px';
  canvas.width = Math.round(canvas.clientWidth * dpr);
  canvas.height = Math.round(h * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const w = width();
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
  ctx.font = '12px system-ui, sans-serif';
  // Session events row.
  ctx.fillStyle = '#455a64'; ctx.fillText('events', 6, 20);
  let drawn = 0;
  for (const e of D.events) {
    if (e[1] < t0 || e[0] > t1) continue;
    const x = xOf(e[0]), x2 = Math.max(x + 2, xOf(e[1]));
    ctx.fillStyle = kindColor(e[3]);
    ctx.fillRect(x, 8, Math.max(2, x2 - x), 16);
  }
  lanes.forEach((lane, i) => {
    const y = TOP + i * LANE_H;
    ctx.fillStyle = i % 2 ? '#f5f7f8' : '#ffffff';
    ctx.fillRect(0, y, w, LANE_H);
    ctx.fillStyle = '#263238';
    ctx.fillText(lane.label, 6, y + 17);
    // Bandwidth per second as a shaded area behind the messages.
    const bw = D.bandwidth[i];
    if (bw.length) {
      const peak = Math.max(...bw, 1);
      ctx.fillStyle = lane.dir === 's2c' ? 'rgba(25,118,210,0.16)' : 'rgba(56,142,60,0.16)';
      for (let s = Math.max(0, Math.floor(t0)); s <= Math.min(bw.length - 1, Math.ceil(t1)); ++s) {
        const x = xOf(s), x2 = xOf(s + 1), bh = (LANE_H - 4) * bw[s] / peak;
        ctx.fillRect(x, y + LANE_H - 2 - bh, Math.max(1, x2 - x), bh);
      }
    }
    const list = perLane[i];
    ctx.fillStyle = lane.dir === 's2c' ? '#1976d2' : '#388e3c';
    for (let k = lowerBound(list, t0); k < list.length; ++k) {
      const m = D.messages[list[k]];
      if (m[0] > t1) break;
      const mh = Math.min(LANE_H - 6, 4 + Math.log2(1 + m[3]));
      ctx.fillRect(Math.floor(xOf(m[0])), y + LANE_H - 3 - mh, 1, mh);
      ++drawn;
    }
    for (const e of D.events) {
      if (e[2] !== lane.conn || lane.dir !== 's2c' || e[1] < t0 || e[0] > t1) continue;
      const x = xOf(e[0]), x2 = Math.max(x + 2, xOf(e[1]));
      ctx.fillStyle = kindColor(e[3]);
      ctx.fillRect(x, y + 1, Math.max(2, x2 - x), 4);
    }
  });
  // Time axis.
  const ay = TOP + lanes.length * LANE_H;
  ctx.strokeStyle = '#90a4ae'; ctx.beginPath(); ctx.moveTo(LABEL_W, ay + 1); ctx.lineTo(w, ay + 1); ctx.stroke();
  const span = t1 - t0, raw = span / 8, pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(f => f * pow).find(s => s >= raw);
  ctx.fillStyle = '#455a64';
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const x = xOf(t);
    ctx.fillRect(x, ay, 1, 5);
    ctx.fillText(t.toFixed(Math.max(0, -Math.floor(Math.log10(step)))), x + 2, ay + 16);
  }
  if (cursorT !== null) {
    const x = xOf(cursorT);
    ctx.fillStyle = 'rgba(198,40,40,0.8)'; ctx.fillRect(x, 0, 1, ay);
  }
  if (selected) {
    ctx.strokeStyle = '#d32f2f'; ctx.strokeRect(xOf(selected.t) - 3, TOP + selected.lane * LANE_H + 1, 7, LANE_H - 2);
  }
  document.getElementById('range').textContent = fmtT(t0) + ' … ' + fmtT(t1);
  status.dataset.drawn = drawn;
  status.dataset.lanes = lanes.length;
}

function showThumb(t) {
  const box = document.getElementById('thumb');
  const byDisplay = {};
  // Thumbnails are in time order: the last one at or before t, else the first.
  for (const th of D.thumbs) if (!(th.display in byDisplay) || th.t <= t + 1e-9) byDisplay[th.display] = th;
  const keys = Object.keys(byDisplay);
  if (!keys.length) { box.textContent = D.thumbNote || 'no screen pictures'; return; }
  box.textContent = '';
  for (const k of keys) {
    const th = byDisplay[k];
    const cap = document.createElement('div');
    cap.textContent = 'display ' + th.display + ' at ' + th.t.toFixed(3) + ' s (' + th.sw + 'x' + th.sh + (th.exact ? '' : ', partly unsure') + ')';
    const img = document.createElement('img');
    img.src = th.src; img.alt = cap.textContent;
    box.appendChild(cap); box.appendChild(img);
  }
}

function showDetails(text) { document.getElementById('details').textContent = text; }

function pick(x, y) {
  const lane = Math.floor((y - TOP) / LANE_H);
  if (y < TOP) {
    let best = null, bd = 6;
    for (const e of D.events) {
      const d = x < xOf(e[0]) ? xOf(e[0]) - x : x > xOf(e[1]) ? x - xOf(e[1]) : 0;
      if (d < bd) { bd = d; best = e; }
    }
    if (best) showDetails(best[3] + ' at ' + best[0].toFixed(6) + ' s' + (best[1] > best[0] ? ' until ' + best[1].toFixed(6) + ' s' : '') + '\n' + best[4]);
    return;
  }
  if (lane < 0 || lane >= lanes.length) return;
  const list = perLane[lane], t = tOf(x);
  let k = lowerBound(list, t), best = -1, bd = 5;
  for (const j of [k - 2, k - 1, k, k + 1]) {
    if (j < 0 || j >= list.length) continue;
    const d = Math.abs(xOf(D.messages[list[j]][0]) - x);
    if (d < bd) { bd = d; best = list[j]; }
  }
  if (best < 0) { selected = null; draw(); return; }
  const m = D.messages[best];
  selected = {t: m[0], lane: lane};
  let text = lanes[lane].label + '\n' + D.names[m[2]] + '  at ' + m[0].toFixed(6) + ' s\nbody ' + m[3] + ' bytes' + (m[4] !== null ? ', serial ' + m[4] : '');
  if (m[5] >= 0) {
    try { text += '\n' + JSON.stringify(JSON.parse(D.fields[m[5]]), null, 2); } catch (err) { text += '\n' + D.fields[m[5]]; }
  }
  showDetails(text);
  draw();
}

function zoom(factor, atX) {
  const ta = tOf(atX);
  let n0 = ta - (ta - t0) * factor, n1 = ta + (t1 - ta) * factor;
  if (n1 - n0 < 1e-6) return;
  const full = D.to - D.from;
  if (n1 - n0 > full) { n0 = D.from; n1 = D.to; }
  t0 = n0; t1 = n1; draw();
}

canvas.addEventListener('wheel', ev => { ev.preventDefault(); zoom(ev.deltaY > 0 ? 1.25 : 0.8, ev.offsetX); }, {passive: false});
canvas.addEventListener('mousedown', ev => { dragX = ev.offsetX; dragT0 = t0; dragT1 = t1; });
window.addEventListener('mouseup', ev => {
  if (dragX !== null && Math.abs(ev.clientX - canvas.getBoundingClientRect().left - dragX) < 3) pick(ev.clientX - canvas.getBoundingClientRect().left, ev.clientY - canvas.getBoundingClientRect().top);
  dragX = null;
});
canvas.addEventListener('mousemove', ev => {
  if (dragX !== null) {
    const dt = (ev.offsetX - dragX) / (width() - LABEL_W - 8) * (dragT1 - dragT0);
    t0 = dragT0 - dt; t1 = dragT1 - dt;
  }
  cursorT = tOf(ev.offsetX);
  showThumb(cursorT);
  draw();
});
canvas.addEventListener('dblclick', () => { t0 = D.from; t1 = D.to; draw(); });
document.getElementById('zin').onclick = () => zoom(0.5, (LABEL_W + width()) / 2);
document.getElementById('zout').onclick = () => zoom(2, (LABEL_W + width()) / 2);
document.getElementById('zreset').onclick = () => { t0 = D.from; t1 = D.to; draw(); };
window.addEventListener('resize', draw);

// Event list.
const tbody = document.getElementById('events');
for (const e of D.events) {
  const tr = document.createElement('tr');
  tr.className = 'ev';
  for (const v of [e[0].toFixed(6), e[1] > e[0] ? (1000 * (e[1] - e[0])).toFixed(3) + ' ms' : '', e[3], e[4]]) {
    const td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
  }
  tr.onclick = () => {
    const half = Math.max((e[1] - e[0]) * 2, (D.to - D.from) / 50);
    t0 = e[0] - half; t1 = e[1] + half; cursorT = e[0]; showThumb(e[0]); showDetails(e[3] + '\n' + e[4]); draw();
  };
  tbody.appendChild(tr);
}
const legend = document.getElementById('legend');
for (const k of Object.keys(KIND_COLORS)) {
  if (!D.events.some(e => e[3] === k)) continue;
  const s = document.createElement('span'), i = document.createElement('i');
  i.style.background = kindColor(k); s.appendChild(i); s.appendChild(document.createTextNode(k)); legend.appendChild(s);
}
showThumb(D.to);
draw();
status.dataset.ready = '1';
)JS";

}  // namespace

std::string write_html(const Timeline& t) {
    const int64_t start = t.scan.session.start_us;
    auto rel = [&](int64_t us) { return double(us - start) / 1e6; };
    std::string data;
    JsonWriter w(data);
    w.begin_object();
    w.field("from", rel(t.from_us)).field("to", rel(t.to_us));
    // Lanes: each connection's client->server then server->client.
    std::map<std::pair<int64_t, int>, int64_t> lane_index;
    w.key("lanes").begin_array();
    int64_t n = 0;
    for (const ConnectionTotals& c : t.scan.connections) {
        for (int d = 0; d < 2; ++d) {
            lane_index[{c.info.id, d}] = n++;
            w.begin_object();
            w.field("label", c.channel + (d == 0 ? " c2s" : " s2c"));
            w.field("conn", c.info.id).field("dir", d == 0 ? "c2s" : "s2c");
            w.end_object();
        }
    }
    w.end_array();
    std::map<std::string, int64_t> name_index;
    std::vector<std::string> names;
    std::vector<const std::string*> fields;
    w.key("messages").begin_array();
    for (const MessageInfo& m : t.messages) {
        auto [it, added] = name_index.try_emplace(m.name, int64_t(names.size()));
        if (added) {
            names.push_back(m.name);
        }
        w.begin_array();
        w.value(rel(m.ts_us));
        w.value(lane_index[{m.connection, m.dir == Direction::ClientToServer ? 0 : 1}]);
        w.value(it->second).value(m.size);
        if (m.serial) {
            w.value(*m.serial);
        } else {
            w.null();
        }
        if (!m.fields.empty()) {
            w.value(int64_t(fields.size()));
            fields.push_back(&m.fields);
        } else {
            w.value(int64_t{-1});
        }
        w.end_array();
    }
    w.end_array();
    w.key("names").begin_array();
    for (const auto& s : names) {
        w.value(s);
    }
    w.end_array();
    w.key("fields").begin_array();
    for (const auto* f : fields) {
        w.value(*f);  // as a string: parsed only when clicked
    }
    w.end_array();
    w.key("events").begin_array();
    for (const Event& e : t.events) {
        w.begin_array().value(rel(e.ts_us)).value(rel(e.end_us)).value(e.connection);
        w.value(e.kind).value(e.text).end_array();
    }
    w.end_array();
    w.key("bandwidth").begin_array();
    for (const ConnectionTotals& c : t.scan.connections) {
        for (int d = 0; d < 2; ++d) {
            w.begin_array();
            for (uint64_t b : c.dir[d].bytes_per_second) {
                w.value(b);
            }
            w.end_array();
        }
    }
    w.end_array();
    w.key("thumbs").begin_array();
    for (const Thumbnail& th : t.thumbnails) {
        w.begin_object();
        w.field("t", rel(th.ts_us)).field("display", int64_t{th.display});
        w.field("sw", th.screen_width).field("sh", th.screen_height).field("exact", th.exact);
        w.field("src", "data:image/png;base64," + base64(th.png));
        w.end_object();
    }
    w.end_array();
    if (!t.thumbnail_error.empty()) {
        w.field("thumbNote", "no screen pictures: " + t.thumbnail_error);
    }
    w.end_object();

    const log::SessionInfo& si = t.scan.session;
    const std::string title = fmt::format("SPICE session 0x{:08x} timeline", si.session_id);
    std::string out;
    out.reserve(data.size() + 32768);
    out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    // No network: nothing on this page may load from anywhere but itself.
    out +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n";
    out += fmt::format("<title>{}</title>\n<style>{}</style></head><body>\n", html::escape(title),
                       kStyle);
    out += fmt::format(
        "<header><h1>{}</h1><div class=\"sub\">{} · {} to {} · {:.3f} s shown · {} messages, {} "
        "events · server {} · client {}</div></header>\n",
        html::escape(title), html::escape(t.source), summary::format_utc(t.from_us),
        summary::format_utc(t.to_us), double(t.to_us - t.from_us) / 1e6, t.messages.size(),
        t.events.size(), html::escape(si.server), html::escape(si.client));
    out +=
        "<div id=\"bar\"><button id=\"zin\">zoom in</button><button id=\"zout\">zoom "
        "out</button><button id=\"zreset\">whole session</button><span id=\"range\"></span>"
        "<span style=\"color:#777\">wheel: zoom · drag: pan · click: details · "
        "double-click: reset</span></div>\n";
    out +=
        "<div id=\"main\"><div id=\"lanes\"><canvas id=\"timeline\"></canvas>"
        "<div class=\"legend\" id=\"legend\" style=\"padding:4px 8px\"></div></div>\n";
    out +=
        "<div id=\"side\"><h2>Screen at the cursor</h2><div id=\"thumb\"></div>"
        "<h2>Details</h2><div id=\"details\">Click a message or an event.</div></div></div>\n";
    out +=
        "<section><h2>Notable events</h2><table><thead><tr><th>time s</th><th>duration</th>"
        "<th>kind</th><th>what</th></tr></thead><tbody id=\"events\"></tbody></table></section>\n";
    out += "<div id=\"status\" hidden></div>\n";
    out += "<script type=\"application/json\" id=\"data\">";
    out += json_for_script(std::move(data));
    out += "</script>\n<script>";
    out += kScript;
    out += "</script>\n</body></html>\n";
    return out;
}

}  // namespace spicetap::timeline
