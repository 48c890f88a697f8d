/* lambdaline serving-layer dashboard: plain browser JS, no build step.
 * One chart per view, fed by the view's Server-Sent Events stream (a snapshot,
 * then changed rows), with the batch horizon marked on the time axis; and a
 * status panel polled from /api/status. Everything is served by the server
 * itself: nothing is loaded from elsewhere. */
(function () {
  'use strict';

  var PALETTE = ['#5eb4ff', '#3ddc97', '#ffb547', '#ff6b9a', '#b18cff', '#4dd6d6', '#f2e35b', '#ff8a5c'];
  var MAX_SERIES = 6;
  var DAY = 86400000;

  var state = { views: {}, statusSamples: [], changeEvents: 0 };
  // For tests and curious people: the live state of the page.
  window.lambdalineDashboard = {
    state: state,
    value: function (view, windowStart, dims, measure) {
      var v = state.views[view];
      var row = v && v.rows.get(rowId(windowStart, dims));
      return row ? row[measure] : undefined;
    },
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function rowId(windowStart, dims) { return windowStart + '|' + JSON.stringify(dims); }

  function fmtNumber(value, op) {
    if (value === null || value === undefined) return '—';
    if (op === 'count' || Number.isInteger(value)) return value.toLocaleString('en-US');
    var abs = Math.abs(value);
    return value.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 1 : abs >= 1 ? 2 : 4 });
  }
  function fmtAgo(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '—';
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h ago';
    return Math.round(s / 86400) + ' days ago';
  }
  function fmtAge(ms) {
    if (ms === null || ms === undefined) return '—';
    return fmtAgo(ms).replace(' ago', '');
  }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    return (ms / 60000).toFixed(1) + ' min';
  }
  function fmtTime(iso) {
    if (!iso) return '—';
    return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  }

  function getJSON(url) {
    return fetch(url, { headers: { accept: 'application/json' } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || r.statusText);
        return body;
      });
    });
  }

  // ---------- views ----------

  function windowsShown(windowMs) {
    if (windowMs >= DAY) return 30;
    if (windowMs >= 3600000) return 48;
    return 72;
  }

  function defaultMeasure(spec) {
    var avg = spec.measures.filter(function (m) { return m.op === 'avg'; })[0];
    return (avg || spec.measures[0]).name;
  }

  function seriesKey(spec, row) {
    if (spec.dimensions.length === 0) return spec.name;
    return spec.dimensions.map(function (d) { return String(row[d]); }).join(' · ');
  }

  function createView(spec) {
    var section = el('section', 'view');
    section.id = 'view-' + spec.name;
    var header = el('header');
    header.appendChild(el('h3', null, spec.name));
    header.appendChild(el('span', 'desc', spec.description || ''));
    var select = el('select');
    select.setAttribute('aria-label', 'measure');
    spec.measures.forEach(function (m) {
      var o = el('option', null, m.name + ' (' + m.op + ')');
      o.value = m.name;
      select.appendChild(o);
    });
    select.value = defaultMeasure(spec);
    header.appendChild(select);
    section.appendChild(header);
    var meta = el('div', 'meta');
    section.appendChild(meta);
    var body = el('div', 'body');
    var chart = el('div', 'chart');
    var latest = el('div', 'latest');
    body.appendChild(chart);
    body.appendChild(latest);
    section.appendChild(body);
    $('views').appendChild(section);

    var v = {
      spec: spec,
      rows: new Map(),
      measure: select.value,
      horizon: null,
      freshness: null,
      updates: 0,
      snapshots: 0,
      lastChangeAt: null,
      recentlyUpdated: new Set(),
      plot: null,
      plotSeries: '',
      els: { section: section, meta: meta, chart: chart, latest: latest },
      dirty: false,
    };
    select.addEventListener('change', function () {
      v.measure = select.value;
      v.plotSeries = '';
      redraw(v);
    });
    state.views[spec.name] = v;
    return v;
  }

  function startStream(v, windows) {
    var spec = v.spec;
    windows = windows || windowsShown(spec.windowMs);
    return getJSON('/api/views/' + encodeURIComponent(spec.name) + '?limit=1').then(function (first) {
      var newest = first.freshness.newestEventTime ? Date.parse(first.freshness.newestEventTime) : Date.now();
      var from = Math.floor(newest / spec.windowMs) * spec.windowMs - (windows - 1) * spec.windowMs;
      var es = new EventSource('/api/views/' + encodeURIComponent(spec.name) + '/stream?from=' + from + '&limit=10000');
      es.addEventListener('open', function () { setLive('on'); });
      es.addEventListener('error', function () { setLive('off'); });
      es.addEventListener('snapshot', function (e) {
        var msg = JSON.parse(e.data);
        if (msg.truncated && windows > 4) {
          // Too many rows for the span (answers are cut at the newest end): ask for fewer windows.
          es.close();
          startStream(v, Math.floor(windows / 2));
          return;
        }
        v.rows = new Map();
        msg.rows.forEach(function (r) { v.rows.set(rowId(r.window_start, dimsOf(spec, r)), r); });
        v.horizon = msg.horizon;
        v.freshness = msg.freshness;
        v.consistency = msg.consistency;
        v.snapshots++;
        setPair(msg);
        schedule(v);
      });
      es.addEventListener('change', function (e) {
        var msg = JSON.parse(e.data);
        v.recentlyUpdated = new Set();
        msg.removed.forEach(function (r) { v.rows.delete(rowId(r.window_start, dimsOf(spec, r))); });
        msg.rows.forEach(function (r) {
          var id = rowId(r.window_start, dimsOf(spec, r));
          v.rows.set(id, r);
          v.recentlyUpdated.add(id);
        });
        v.horizon = msg.horizon;
        v.freshness = msg.freshness;
        v.consistency = msg.consistency;
        v.updates++;
        v.lastChangeAt = Date.now();
        state.changeEvents++;
        setPair(msg);
        flashLive();
        schedule(v);
      });
      v.source = es;
    });
  }

  function dimsOf(spec, row) {
    return spec.dimensions.map(function (d) { return row[d]; });
  }

  function schedule(v) {
    if (v.dirty) return;
    v.dirty = true;
    requestAnimationFrame(function () {
      v.dirty = false;
      redraw(v);
    });
  }

  /** Rows → uPlot data: x = window starts (s), one y array per series. */
  function buildData(v) {
    var spec = v.spec;
    var shown = windowsShown(spec.windowMs);
    var starts = new Set();
    v.rows.forEach(function (r) { starts.add(Date.parse(r.window_start)); });
    var xs = Array.from(starts).sort(function (a, b) { return a - b; });
    if (xs.length > shown) xs = xs.slice(xs.length - shown);
    var first = xs.length ? xs[0] : 0;
    var countMeasure = spec.measures.filter(function (m) { return m.op === 'count'; })[0];
    var weight = new Map();
    v.rows.forEach(function (r) {
      if (Date.parse(r.window_start) < first) return;
      var k = seriesKey(spec, r);
      weight.set(k, (weight.get(k) || 0) + (countMeasure ? r[countMeasure.name] || 0 : 1));
    });
    var keys = Array.from(weight.keys()).sort(function (a, b) {
      return weight.get(b) - weight.get(a) || (a < b ? -1 : a > b ? 1 : 0);
    });
    keys = keys.slice(0, MAX_SERIES).sort(function (a, b) {
      return a.localeCompare(b, 'en', { numeric: true });
    });
    var index = new Map(xs.map(function (x, i) { return [x, i]; }));
    var ys = keys.map(function () { return xs.map(function () { return null; }); });
    var seriesIndex = new Map(keys.map(function (k, i) { return [k, i]; }));
    v.rows.forEach(function (r) {
      var xi = index.get(Date.parse(r.window_start));
      var si = seriesIndex.get(seriesKey(spec, r));
      if (xi === undefined || si === undefined) return;
      ys[si][xi] = r[v.measure];
    });
    return { keys: keys, data: [xs.map(function (x) { return x / 1000; })].concat(ys), newest: xs[xs.length - 1] };
  }

  function horizonPlugin(v) {
    return {
      hooks: {
        drawClear: [function (u) {
          var t = v.horizon && v.horizon.maxEventTime ? Date.parse(v.horizon.maxEventTime) / 1000 : null;
          if (t === null) return;
          var ctx = u.ctx;
          var left = u.bbox.left, top = u.bbox.top, height = u.bbox.height;
          var x = Math.round(u.valToPos(t, 'x', true));
          if (x <= left) return;
          ctx.save();
          ctx.fillStyle = 'rgba(201, 167, 255, 0.07)';
          ctx.fillRect(left, top, Math.min(x, left + u.bbox.width) - left, height);
          ctx.restore();
        }],
        draw: [function (u) {
          var t = v.horizon && v.horizon.maxEventTime ? Date.parse(v.horizon.maxEventTime) / 1000 : null;
          if (t === null) return;
          var ctx = u.ctx;
          var x = Math.round(u.valToPos(t, 'x', true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          var dpr = window.devicePixelRatio || 1;
          ctx.save();
          ctx.strokeStyle = '#c9a7ff';
          ctx.lineWidth = 1.5 * dpr;
          ctx.setLineDash([6 * dpr, 4 * dpr]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = '#c9a7ff';
          ctx.font = '600 ' + Math.round(11 * dpr) + 'px system-ui, sans-serif';
          var left = '◀ batch', right = 'speed ▶';
          var wl = ctx.measureText(left).width, wr = ctx.measureText(right).width;
          var y = u.bbox.top + 14 * dpr;
          if (x - 6 * dpr - wl > u.bbox.left) ctx.fillText(left, x - 6 * dpr - wl, y);
          if (x + 6 * dpr + wr < u.bbox.left + u.bbox.width) ctx.fillText(right, x + 6 * dpr, y);
          ctx.font = '500 ' + Math.round(10 * dpr) + 'px system-ui, sans-serif';
          ctx.fillStyle = 'rgba(201, 167, 255, 0.8)';
          var label = 'horizon ' + new Date(t * 1000).toISOString().slice(11, 16);
          var wh = ctx.measureText(label).width;
          if (x + 6 * dpr + wh < u.bbox.left + u.bbox.width) ctx.fillText(label, x + 6 * dpr, y + 14 * dpr);
          else ctx.fillText(label, x - 6 * dpr - wh, y + 14 * dpr);
          ctx.restore();
        }],
      },
    };
  }

  function chartWidth(v) {
    return Math.max(320, v.els.chart.clientWidth || 600);
  }

  function makePlot(v, built) {
    var spec = v.spec;
    var measure = spec.measures.filter(function (m) { return m.name === v.measure; })[0];
    var daily = spec.windowMs >= DAY;
    var axis = {
      stroke: '#8b98a8',
      grid: { stroke: 'rgba(255,255,255,0.06)', width: 1 },
      ticks: { stroke: 'rgba(255,255,255,0.12)', width: 1 },
    };
    var opts = {
      width: chartWidth(v),
      height: 300,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      scales: {
        x: {
          time: true,
          // Through the end of the last window, so a horizon inside it is on the axis.
          range: function (u, min, max) { return [min, max + spec.windowMs / 1000]; },
        },
      },
      cursor: { points: { size: 7 } },
      legend: { live: true },
      series: [{ label: 'window (UTC)' }].concat(built.keys.map(function (k, i) {
        return {
          label: k,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          spanGaps: true,
          points: { show: daily || built.data[0].length < 40, size: 6, fill: PALETTE[i % PALETTE.length] },
          value: function (u, val) { return fmtNumber(val, measure.op); },
        };
      })),
      axes: [
        Object.assign({}, axis),
        Object.assign({}, axis, {
          label: measure.name,
          labelSize: 22,
          size: 60,
          values: function (u, splits) { return splits.map(function (s) { return fmtNumber(s, measure.op); }); },
        }),
      ],
      plugins: [horizonPlugin(v)],
    };
    v.els.chart.textContent = '';
    v.plot = new uPlot(opts, built.data, v.els.chart);
    v.plotSeries = built.keys.join('\u0000') + '\u0001' + v.measure;
  }

  function redraw(v) {
    var built = buildData(v);
    v.series = built.keys;
    if (built.data[0].length === 0) {
      if (v.plot) { v.plot.destroy(); v.plot = null; }
      v.plotSeries = '';
      v.els.chart.innerHTML = '<div class="empty">No data yet</div>';
    } else if (!v.plot || v.plotSeries !== built.keys.join('\u0000') + '\u0001' + v.measure) {
      if (v.plot) v.plot.destroy();
      makePlot(v, built);
    } else {
      v.plot.setData(built.data);
    }
    renderLatest(v, built);
    renderMeta(v);
  }

  function renderMeta(v) {
    var parts = [];
    parts.push('<b>' + v.rows.size.toLocaleString('en-US') + '</b> rows');
    if (v.horizon) {
      parts.push('batch horizon <b>' + fmtTime(v.horizon.maxEventTime) + '</b> (snapshot v' + v.horizon.snapshotVersion + ')');
    }
    if (v.freshness) parts.push('newest event <b>' + fmtTime(v.freshness.newestEventTime) + '</b>');
    parts.push('<span class="updates">' + v.updates + '</span> live updates');
    v.els.meta.innerHTML = parts.join(' · ');
  }

  function renderLatest(v, built) {
    var spec = v.spec;
    var box = v.els.latest;
    box.textContent = '';
    if (built.newest === undefined) return;
    box.appendChild(el('h4', null, 'Window ' + fmtTime(new Date(built.newest).toISOString())));
    var table = el('table');
    var head = el('tr');
    head.appendChild(el('th', null, spec.dimensions.join(' · ') || 'all'));
    var shownMeasures = spec.measures.slice(0, 3);
    shownMeasures.forEach(function (m) { head.appendChild(el('th', null, m.name)); });
    table.appendChild(head);
    var iso = new Date(built.newest).toISOString();
    built.keys.forEach(function (k, i) {
      var row = null;
      v.rows.forEach(function (r) { if (r.window_start === iso && seriesKey(spec, r) === k) row = r; });
      var tr = el('tr');
      if (row && v.recentlyUpdated.has(rowId(row.window_start, dimsOf(spec, row)))) tr.className = 'updated';
      tr.dataset.series = k;
      var name = el('td');
      var sw = el('span', 'swatch');
      sw.style.background = PALETTE[i % PALETTE.length];
      name.appendChild(sw);
      name.appendChild(document.createTextNode(k));
      tr.appendChild(name);
      shownMeasures.forEach(function (m) {
        var td = el('td', null, row ? fmtNumber(row[m.name], m.op) : '—');
        td.dataset.measure = m.name;
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    box.appendChild(table);
  }

  // ---------- header and status ----------

  var liveTimer = null;
  function setLive(mode) {
    var live = $('live');
    live.className = 'live ' + mode;
    $('live-text').textContent = mode === 'on' ? 'live' : mode === 'off' ? 'reconnecting' : 'connecting';
  }
  function flashLive() {
    var live = $('live');
    live.classList.add('flash');
    clearTimeout(liveTimer);
    liveTimer = setTimeout(function () { live.classList.remove('flash'); }, 300);
    $('live-text').textContent = 'live · ' + state.changeEvents + ' updates';
  }

  function setPair(msg) {
    var mode = msg.consistency.mode;
    var badge = $('pair-mode');
    badge.textContent = mode;
    badge.className = 'badge ' + mode;
    var counts = { live: 0, frozen: 0, excluded: 0 };
    msg.consistency.partitions.forEach(function (p) { counts[p.state]++; });
    var text = msg.horizon.snapshotVersion > 0 ? 'batch snapshot v' + msg.horizon.snapshotVersion : 'no batch snapshot yet';
    text += ' + ' + (counts.live + counts.frozen) + ' speed partition' + (counts.live + counts.frozen === 1 ? '' : 's');
    if (counts.frozen) text += ' (' + counts.frozen + ' frozen)';
    if (counts.excluded) text += ', ' + counts.excluded + ' excluded';
    $('pair-detail').textContent = text;
  }

  function drawSpark(canvas, values) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth || 240, h = canvas.clientHeight || 36;
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    var ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, w, h);
    if (values.length < 2) return;
    var max = Math.max.apply(null, values.concat([1]));
    ctx.beginPath();
    values.forEach(function (val, i) {
      var x = (i / (values.length - 1)) * w;
      var y = h - 2 - (val / max) * (h - 4);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = '#3ddc97';
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.lineTo(w, h);
    ctx.lineTo(0, h);
    ctx.closePath();
    ctx.fillStyle = 'rgba(61, 220, 151, 0.12)';
    ctx.fill();
  }

  function renderStatus(s) {
    var b = s.batch;
    $('batch-version').textContent = b.snapshotVersion > 0 ? 'v' + b.snapshotVersion : 'none yet';
    $('batch-run').textContent = b.lastRun ? fmtAgo(Date.parse(s.now) - Date.parse(b.lastRun.finishedAt)) + ' · ' + b.lastRun.mode : b.running ? 'running…' : '—';
    $('batch-duration').textContent = b.lastRun ? fmtDuration(b.lastRun.durationMs) : '—';
    $('batch-horizon').textContent = fmtTime(b.horizon.maxEventTime);

    var sp = s.speed;
    $('speed-rate').textContent = sp.eventsPerSecond === null ? '—' : fmtNumber(Math.round(sp.eventsPerSecond), 'count');
    $('speed-lag').textContent = sp.lagTotal === null ? 'unknown' : fmtNumber(sp.lagTotal, 'count') + ' records';
    var states = {};
    sp.partitions.forEach(function (p) { states[p.state] = (states[p.state] || 0) + 1; });
    $('speed-partitions').textContent = sp.partitions.length
      ? Object.keys(states).map(function (k) { return states[k] + ' ' + k; }).join(', ')
      : 'none';
    state.statusSamples.push(sp.eventsPerSecond || 0);
    if (state.statusSamples.length > 60) state.statusSamples.shift();
    drawSpark($('speed-spark'), state.statusSamples);

    $('dead-total').textContent = fmtNumber(sp.deadLettersTotal, 'count');
    var codes = $('dead-codes');
    codes.textContent = '';
    var entries = Object.keys(sp.deadLetters).filter(function (k) { return sp.deadLetters[k] > 0; });
    if (entries.length === 0) codes.appendChild(el('li', 'none', 'no rejected records'));
    entries.sort(function (a, b) { return sp.deadLetters[b] - sp.deadLetters[a]; }).slice(0, 5).forEach(function (k) {
      var li = el('li', null, k.replace(/_/g, ' '));
      li.appendChild(el('b', null, fmtNumber(sp.deadLetters[k], 'count')));
      codes.appendChild(li);
    });

    var sv = s.serving;
    $('serving-qps').textContent = fmtNumber(Math.round(sv.queriesPerSecond * 10) / 10);
    $('serving-sse').textContent = String(sv.sseClients);
    $('serving-total').textContent = fmtNumber(sv.queriesTotal, 'count');
    var f = sv.freshness;
    $('serving-freshness').textContent = f && f.ageMs !== null ? 'newest event ' + fmtAge(f.ageMs) + ' old' : '—';
  }

  function pollStatus() {
    getJSON('/api/status').then(renderStatus).catch(function () { /* shown by the live dot */ }).then(function () {
      setTimeout(pollStatus, 2000);
    });
  }

  window.addEventListener('resize', function () {
    Object.keys(state.views).forEach(function (k) {
      var v = state.views[k];
      if (v.plot) v.plot.setSize({ width: chartWidth(v), height: 300 });
    });
  });

  getJSON('/api/views').then(function (body) {
    body.views.forEach(function (spec) { startStream(createView(spec)); });
  }).catch(function (error) {
    $('views').appendChild(el('div', 'empty', 'Cannot load views: ' + error.message));
  });
  pollStatus();
})();
