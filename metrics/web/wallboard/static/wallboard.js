// ccmon wall board: polls the read API (GET /api/v1/queues) every second and updates the
// page in place. Thresholds come from /wallboard/config.json (metrics/web/wallboard/thresholds.py
// holds the same rules in Python).
"use strict";
(function () {
  const board = document.getElementById("board");
  const status = document.getElementById("status");
  const empty = document.getElementById("empty");
  let config = { refresh_ms: 1000, defaults: {}, queues: {} };
  let lastOk = null;
  let refused = false;
  // With CCMON_API_TOKEN set, open the board once as /wallboard#token=...: a fragment is
  // never sent to a server; the token stays in this tab and leaves the address bar.
  const TOKEN_KEY = "ccmon.apiToken";
  function takeToken() {
    const given = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    if (given) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(given[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
  }
  takeToken();
  window.addEventListener("hashchange", takeToken);  // pasted into an open board
  function apiHeaders() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: "Bearer " + token } : {};
  }
  window.ccmonWallboard = { polls: 0, loadedAt: Date.now(), last: null };

  function limitsOf(queue) { return config.queues[queue] || config.defaults; }

  function colour(metric, value, lim) {
    if (value === null || value === undefined) return metric === "oldest_wait" ? "good" : "none";
    if (metric === "service_level") {
      if (value >= lim.sl_target) return "good";
      return value >= lim.sl_amber ? "warn" : "bad";
    }
    if (metric === "oldest_wait") {
      if (value <= lim.wait_amber_s) return "good";
      return value <= lim.wait_red_s ? "warn" : "bad";
    }
    if (value < lim.abandon_amber) return "good";
    return value < lim.abandon_red ? "warn" : "bad";
  }

  function percent(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + "%"; }
  function clock(s) {
    if (s === null || s === undefined) return "–";
    const whole = Math.floor(s);
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }

  function tile(card, metric, label) {
    let el = card.querySelector('[data-metric="' + metric + '"]');
    if (!el) {
      el = document.createElement("div");
      el.className = "tile";
      el.dataset.metric = metric;
      const value = document.createElement("span");
      value.className = "value";
      const text = document.createElement("span");
      text.className = "label";
      el.append(value, text);
      card.querySelector(".tiles").append(el);
    }
    el.querySelector(".label").textContent = label;
    return el;
  }

  function set(el, raw, text, tone) {
    el.dataset.value = raw === null || raw === undefined ? "" : String(raw);
    el.dataset.colour = tone;
    el.querySelector(".value").textContent = text;
  }

  function card(row) {
    const id = row.queue + "|" + row.channel;
    let el = board.querySelector('[data-series="' + CSS.escape(id) + '"]');
    if (!el) {
      el = document.createElement("section");
      el.className = "queue";
      el.dataset.series = id;
      el.dataset.queue = row.queue;
      el.dataset.channel = row.channel;
      const title = document.createElement("h2");
      const name = document.createElement("span");
      name.textContent = row.queue;
      const channel = document.createElement("span");
      channel.className = "channel";
      channel.textContent = row.channel;
      title.append(name, channel);
      const tiles = document.createElement("div");
      tiles.className = "tiles";
      el.append(title, tiles);
    }
    return el;
  }

  function render(data) {
    const rows = data.queues.slice().sort((a, b) =>
      a.queue === b.queue ? a.channel.localeCompare(b.channel) : a.queue.localeCompare(b.queue));
    const keep = new Set();
    for (const row of rows) {
      const lim = limitsOf(row.queue);
      const el = card(row);
      keep.add(el);
      board.append(el); // keeps the sorted order
      set(tile(el, "contacts_waiting", "waiting"), row.contacts_waiting,
        String(row.contacts_waiting), "plain");
      set(tile(el, "oldest_wait", "oldest wait"), row.oldest_wait_seconds,
        clock(row.oldest_wait_seconds), colour("oldest_wait", row.oldest_wait_seconds, lim));
      set(tile(el, "service_level", "SL " + Math.round(lim.sl_threshold_s) + "s · target " +
        percent(lim.sl_target)), row.service_level_15m, percent(row.service_level_15m),
        colour("service_level", row.service_level_15m, lim));
      set(tile(el, "abandonment", "abandoned"), row.abandonment_rate_15m,
        percent(row.abandonment_rate_15m), colour("abandonment", row.abandonment_rate_15m, lim));
      set(tile(el, "agents_available", "agents available"), row.agents.available,
        String(row.agents.available), "plain");
    }
    for (const el of Array.from(board.children)) if (!keep.has(el)) el.remove();
    empty.hidden = rows.length > 0;
    board.dataset.generatedAt = data.generated_at;
  }

  function showStatus() {
    const now = Date.now();
    if (refused) {
      status.dataset.state = "stale";
      status.textContent = "the read API wants a token: open /wallboard#token=<CCMON_API_TOKEN>";
    } else if (lastOk !== null && now - lastOk < 5000) {
      status.dataset.state = "ok";
      status.textContent = "updated " + new Date(lastOk).toLocaleTimeString();
    } else {
      status.dataset.state = "stale";
      status.textContent = lastOk === null ? "no data from ccmon yet" :
        "no data since " + new Date(lastOk).toLocaleTimeString();
    }
  }

  async function loadConfig() {
    try {
      const r = await fetch("/wallboard/config.json", { cache: "no-store" });
      if (r.ok) config = await r.json();
    } catch (e) { /* keep the last one */ }
  }

  async function poll() {
    try {
      const r = await fetch("/api/v1/queues", { cache: "no-store", headers: apiHeaders() });
      refused = r.status === 401;
      if (!r.ok) throw new Error("HTTP " + r.status);
      const data = await r.json();
      render(data);
      lastOk = Date.now();
      window.ccmonWallboard.polls += 1;
      window.ccmonWallboard.last = data;
    } catch (e) {
      /* shown as stale below; the next poll tries again */
    }
    showStatus();
    setTimeout(poll, Math.min(config.refresh_ms || 1000, 2000));
  }

  loadConfig().then(poll);
  setInterval(loadConfig, 60000);
})();
