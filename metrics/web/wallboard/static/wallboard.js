// ccmon wall board, made for a TV. Polls the read API and updates the page in place:
//   GET /api/v1/queues             every second: live figures and the last 15 minutes
//   GET /api/v1/routing/queues     every second: EWT (absent on a bare read API: "–")
//   GET /api/v1/queues/{queue}     every 10 s per shown queue: SL today
//   GET /api/v1/agents             every 2 s: the agent grid ("no agent data" without it)
// URL: ?queues=a,b shows those queues; ?team=x shows that team's agents and the queues
// they serve; ?page_s=N turns the queue pages every N seconds (default 10, at least 2) when
// the cards do not all fit at a readable size. Thresholds come from /wallboard/config.json
// (metrics/web/wallboard/thresholds.py holds the same colour and severity rules in Python).
"use strict";
(function () {
  const board = document.getElementById("board");
  const status = document.getElementById("status");
  const empty = document.getElementById("empty");
  const scope = document.getElementById("scope");
  const agentsBox = document.getElementById("agents");
  const agentGrid = document.getElementById("agent-grid");
  const agentsNote = document.getElementById("agents-note");
  const agentsTitle = document.getElementById("agents-title");
  const agentsPageLabel = document.getElementById("agents-page");
  const queuesPageLabel = document.getElementById("queues-page");
  let config = {
    refresh_ms: 1000, agents_refresh_ms: 2000, today_refresh_ms: 10000, agents_page_ms: 8000,
    stale_after_ms: 5000, defaults: {}, queues: {},
  };

  // ---- what to show, from the URL ----
  const params = new URLSearchParams(location.search);
  const listed = (params.get("queues") || "").split(",").map((q) => q.trim()).filter(Boolean);
  const wantedQueues = listed.length ? new Set(listed) : null;
  const team = (params.get("team") || "").trim() || null;
  const pageSeconds = Number(params.get("page_s"));
  const queuePageMs = Number.isFinite(pageSeconds) && pageSeconds > 0 ?
    Math.max(2, pageSeconds) * 1000 : 10000;
  scope.textContent = team ? "team " + team :
    wantedQueues ? (listed.length <= 4 ? listed.join(" · ") : listed.length + " queues") : "";

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
  async function getJson(url) {
    const r = await fetch(url, { cache: "no-store", headers: apiHeaders() });
    if (r.status === 401) refused = true;
    if (!r.ok) { const e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
    return r.json();
  }

  // ---- state: the last answer of each source and when it came ----
  let refused = false;
  let index = null;            // GET /api/v1/queues
  let lastOk = null;
  const ewt = {};              // "queue|channel" -> seconds or null
  let ewtState = "loading";    // loading | ok | missing | error
  let ewtAt = null;
  const today = {};            // "queue|channel" -> SL today (or null)
  const todayAt = {};          // queue -> time of its last answer
  let agents = null;           // the agents list (filtered), or null
  let agentsState = "loading"; // loading | ok | missing | error
  let agentsAt = null;
  let teamQueues = null;       // with ?team=: queues its agents serve
  let agentPage = 0;
  let agentPerPage = 1;
  let queuePage = 0;
  const api = window.ccmonWallboard = {
    polls: 0, loadedAt: Date.now(), last: null, lastAgents: null, order: [],
    layout: null, agentPages: 0, agentPage: 0, agentFont: 0, queuePage: 0, pageOrder: [],
    queuePageMs,
    showAgentPage(i) { agentPage = i; renderAgents(); return api.agentPage; },
    // Tests (and a remote) step the queue pages without waiting for the timer.
    showQueuePage(i) { queuePage = i; render(); return api.queuePage; },
  };

  function fresh(at) {
    return at !== null && at !== undefined && Date.now() - at < config.stale_after_ms;
  }
  function limitsOf(queue) { return config.queues[queue] || config.defaults; }

  const WAIT_METRICS = ["oldest_wait", "asa", "ewt"];
  function colour(metric, value, lim) {
    if (value === null || value === undefined) return metric === "oldest_wait" ? "good" : "none";
    if (metric === "service_level" || metric === "service_level_today") {
      if (value >= lim.sl_target) return "good";
      return value >= lim.sl_amber ? "warn" : "bad";
    }
    if (WAIT_METRICS.includes(metric)) {
      if (value <= lim.wait_amber_s) return "good";
      return value <= lim.wait_red_s ? "warn" : "bad";
    }
    if (value < lim.abandon_amber) return "good";
    return value < lim.abandon_red ? "warn" : "bad";
  }
  const SEVERITY = { bad: 2, warn: 1 };
  function severityKey(row, tones) {
    const ranks = Object.values(tones).map((t) => SEVERITY[t] || 0);
    const wait = row.oldest_wait_seconds === null || row.oldest_wait_seconds === undefined ?
      -1 : row.oldest_wait_seconds;
    return [-Math.max(0, ...ranks), -ranks.filter((r) => r === 2).length,
      -ranks.filter((r) => r === 1).length, -wait];
  }
  function compareRows(a, b) {
    for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
    if (a.row.queue !== b.row.queue) return a.row.queue < b.row.queue ? -1 : 1;
    return a.row.channel < b.row.channel ? -1 : a.row.channel > b.row.channel ? 1 : 0;
  }

  function percent(v) { return v === null || v === undefined ? "–" : Math.round(v * 100) + "%"; }
  function clock(s) {
    if (s === null || s === undefined) return "–";
    const whole = Math.floor(s);
    const h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), sec = whole % 60;
    const ss = String(sec).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }

  // A one-line text: "fit" ones shrink to their box (fit() below), "clip" ones keep their
  // size and end in "…" (the agent grid: never under the floor).
  function textBlock(cls, kind = "fit") {
    const el = document.createElement("span");
    el.className = cls + " " + kind;
    return el;
  }

  // ---- queue cards ----
  const TILES = [
    // metric, label, source
    ["contacts_waiting", "waiting", "queues"],
    ["oldest_wait", "oldest wait", "queues"],
    ["service_level", "SL 15m", "queues"],
    ["service_level_today", "SL today", "today"],
    ["abandonment", "abandoned", "queues"],
    ["asa", "ASA 15m", "queues"],
    ["ewt", "EWT", "ewt"],
    ["agents_available", "available", "queues"],
  ];

  const cards = new Map();  // series -> its card, kept while it is on another page
  function card(row) {
    const id = row.queue + "|" + row.channel;
    let el = cards.get(id);
    if (!el) {
      el = document.createElement("section");
      el.className = "queue";
      el.dataset.series = id;
      el.dataset.queue = row.queue;
      el.dataset.channel = row.channel;
      const title = document.createElement("h2");
      const name = textBlock("name");
      name.textContent = row.queue;
      const channel = textBlock("channel");
      channel.textContent = row.channel;
      const target = textBlock("target");
      title.append(name, channel, target);
      const tiles = document.createElement("div");
      tiles.className = "tiles";
      for (const [metric, label] of TILES) {
        const t = document.createElement("div");
        t.className = "tile";
        t.dataset.metric = metric;
        const value = textBlock("value");
        const text = textBlock("label");
        text.textContent = label;
        t.append(value, text);
        tiles.append(t);
      }
      el.append(title, tiles);
      cards.set(id, el);
    }
    return el;
  }

  function set(el, raw, text, tone, stale) {
    el.dataset.value = raw === null || raw === undefined ? "" : String(raw);
    el.dataset.colour = tone;
    el.dataset.stale = stale ? "true" : "false";
    el.querySelector(".value").textContent = text;
  }

  function figures(row) {
    const id = row.queue + "|" + row.channel;
    const lim = limitsOf(row.queue);
    const ewtValue = ewtState === "ok" ? ewt[id] : null;
    const todayValue = id in today ? today[id] : null;
    return {
      lim,
      tiles: {
        contacts_waiting: [row.contacts_waiting, String(row.contacts_waiting), "plain"],
        oldest_wait: [row.oldest_wait_seconds, clock(row.oldest_wait_seconds),
          colour("oldest_wait", row.oldest_wait_seconds, lim)],
        service_level: [row.service_level_15m, percent(row.service_level_15m),
          colour("service_level", row.service_level_15m, lim)],
        service_level_today: [todayValue, percent(todayValue),
          colour("service_level_today", todayValue, lim)],
        abandonment: [row.abandonment_rate_15m, percent(row.abandonment_rate_15m),
          colour("abandonment", row.abandonment_rate_15m, lim)],
        asa: [row.asa_seconds_15m, clock(row.asa_seconds_15m),
          colour("asa", row.asa_seconds_15m, lim)],
        ewt: [ewtValue, clock(ewtValue), colour("ewt", ewtValue, lim)],
        agents_available: [row.agents.available, String(row.agents.available), "plain"],
      },
    };
  }

  function shownRows() {
    if (index === null) return [];
    let wanted = wantedQueues;
    if (!wanted && team) wanted = teamQueues || new Set();
    return index.queues.filter((r) => !wanted || wanted.has(r.queue));
  }

  function render() {
    if (index === null) return;
    const rows = shownRows().map((row) => {
      const f = figures(row);
      const tones = {};
      for (const [m, v] of Object.entries(f.tiles)) if (v[2] !== "plain") tones[m] = v[2];
      return { row, f, key: severityKey(row, tones) };
    }).sort(compareRows);
    api.order = rows.map((r) => r.row.queue + "|" + r.row.channel);
    if (api.layout === null || api.layout.n !== rows.length) layout(rows.length);
    // The page: a slice of the severity order, so the worst queues are on page 1.
    const { perPage, pages } = api.layout;
    queuePage = pages ? ((queuePage % pages) + pages) % pages : 0;
    const page = rows.slice(queuePage * perPage, (queuePage + 1) * perPage);
    const keep = new Set();
    const stale = {
      queues: !fresh(lastOk), today: null, ewt: ewtState !== "missing" && !fresh(ewtAt),
    };
    for (const { row, f } of page) {
      const el = card(row);
      keep.add(el);
      board.append(el); // keeps the severity order
      el.querySelector(".target").textContent =
        percent(f.lim.sl_target) + " in " + Math.round(f.lim.sl_threshold_s) + "s";
      for (const [metric, , source] of TILES) {
        const [raw, text, tone] = f.tiles[metric];
        const old = source === "today" ? !fresh(todayAt[row.queue]) : stale[source];
        set(el.querySelector('[data-metric="' + metric + '"]'), raw, text, tone, old);
      }
    }
    for (const el of Array.from(board.children)) if (!keep.has(el)) el.remove();
    for (const [id, el] of cards) if (!api.order.includes(id)) cards.delete(id);
    api.queuePage = queuePage;
    api.pageOrder = page.map((r) => r.row.queue + "|" + r.row.channel);
    queuesPageLabel.textContent = pages > 1 ? "page " + (queuePage + 1) + "/" + pages : "";
    empty.hidden = rows.length > 0;
    if (team && !wantedQueues && teamQueues === null) {
      empty.textContent = "team " + team + ": its queues come from the agent data, none yet";
    } else {
      empty.textContent = "No queue has data yet.";
    }
    board.dataset.generatedAt = index.generated_at;
    fit(board);
  }

  // Readable across a room (docs/producers.md#wall-board): at 1280x720 tile labels and
  // card titles at least 14 px and numbers at least 24 px, scaled with the screen (the
  // same TV shows 720 or 2160 rows over the same height). Cards that would be smaller
  // go onto further pages.
  const FLOOR_PX = { value: 24, label: 14 };
  function floors() {
    const scale = Math.min(window.innerWidth / 1280, window.innerHeight / 720);
    return { value: FLOOR_PX.value * scale, label: FLOOR_PX.label * scale };
  }

  // The type a card of content box w x h gets, as wallboard.css sizes it: the value
  // min(44cqh, 20cqw) and the label min(30cqh, 11.5cqw) of their tile, the title
  // min(15cqh, 6cqw) of the card (the SL target at .75 of it); tiles in a 4 x 2 block
  // under the title ("grid") or one row of eight beside it ("row": the title
  // min(28cqh, 3.2cqw) in three lines, the target as large).
  function cardFonts(w, h, mode, innerGap) {
    let tileW, tileH, title, target;
    if (mode === "row") {
      tileW = ((w - innerGap) * 0.88 - 0.07 * w) / 8;
      tileH = h;
      title = Math.min(0.28 * h, 0.032 * w);
      target = title;
    } else {
      tileW = (w - 0.03 * w) / 4;
      tileH = ((h - innerGap) * 0.78 - 0.012 * h) / 2;
      title = Math.min(0.15 * h, 0.06 * w);
      target = 0.75 * title;
    }
    return {
      value: Math.min(0.44 * tileH, 0.2 * tileW),
      label: Math.min(0.3 * tileH, 0.115 * tileW, target),
    };
  }

  // Columns x rows of cards for `count` cards on the board giving the largest numbers,
  // or null when none keeps the text above the floor.
  function bestGrid(count, W, H, gap, pad, innerGap, floor) {
    let best = null;
    for (let c = 1; c <= count; c++) {
      const r = Math.ceil(count / c);
      const w = (W - (c - 1) * gap) / c - pad, h = (H - (r - 1) * gap) / r - pad;
      for (const mode of ["grid", "row"]) {
        const font = cardFonts(w, h, mode, innerGap);
        if (font.value < floor.value || font.label < floor.label) continue;
        const score = font.value - (c * r - count) * 0.01;  // equal type: fewer empty cells
        if (best === null || score > best.score + 1e-9) best = { score, c, r, mode, font };
      }
    }
    return best;
  }

  // How many pages and which grid: the fewest pages whose cards stay readable, the cards
  // shared evenly (20 in three pages: 7, 7, 6). On a screen too small for even one
  // readable card, one card a page at the largest type it gets.
  function layout(n) {
    if (!n) { api.layout = { n: 0, perPage: 0, pages: 0 }; return; }
    // The agent grid gives way to many queues (and its pages are cut again to fit).
    const share = n <= 4 ? "30vh" : n <= 10 ? "26vh" : "22vh";
    if (document.body.style.getPropertyValue("--agents-h") !== share) {
      document.body.style.setProperty("--agents-h", share);
      renderAgents();
    }
    const gap = parseFloat(getComputedStyle(board).columnGap) || 0;
    const W = board.clientWidth, H = board.clientHeight;
    // A card's padding (both sides) and the gap under its title, as wallboard.css sets them.
    const vmin = Math.min(window.innerWidth, window.innerHeight) / 100;
    const pad = 2 * Math.max(3, 0.7 * vmin), innerGap = Math.max(2, 0.5 * vmin);
    const floor = floors();
    let pages = 1;
    let best = bestGrid(n, W, H, gap, pad, innerGap, floor);
    while (best === null && pages < n) {
      pages += 1;
      best = bestGrid(Math.ceil(n / pages), W, H, gap, pad, innerGap, floor);
    }
    if (best === null) {  // not even one card is readable: one a page, as large as it gets
      best = bestGrid(1, W, H, gap, pad, innerGap, { value: -Infinity, label: -Infinity }) ||
        { c: 1, r: 1, mode: "grid", font: { value: 0, label: 0 } };
    }
    const perPage = Math.ceil(n / pages);
    pages = Math.ceil(n / perPage);  // no empty last page
    board.style.setProperty("--cols", best.c);
    board.style.setProperty("--rows", best.r);
    board.dataset.tiles = best.mode;
    api.layout = {
      n, perPage, pages, cols: best.c, rows: best.r, tiles: best.mode,
      font: best.font.value, label: best.font.label,
    };
  }

  // The safety net for long texts (a long agent or queue name, a six-digit wait): shrink
  // any text wider or taller than its box until it fits, down to 55 % of its size; past
  // that it ends in an ellipsis rather than becoming unreadable.
  const MIN_FIT = 0.55;
  function fit(root) {
    const els = Array.from(root.querySelectorAll(".fit"));
    if (root.classList && root.classList.contains("fit")) els.push(root);
    for (const el of els) el.style.fontSize = "";
    const base = new Map();
    const range = document.createRange();
    // Sub-pixel widths: scrollWidth rounds, and a glyph 0.3 px over already shows "…".
    function widths(el) {
      range.selectNodeContents(el);
      return [range.getBoundingClientRect().width, el.getBoundingClientRect().width];
    }
    for (let round = 0; round < 4; round++) {
      const measured = els.map((el) => (el.clientWidth > 0 ? widths(el) : [0, 0]));
      const over = els.filter((el, i) => el.clientWidth > 0 &&
        (measured[i][0] > measured[i][1] || el.scrollHeight > el.clientHeight));
      if (!over.length) return;
      const sizes = over.map((el) => {
        const now = parseFloat(getComputedStyle(el).fontSize);
        if (!base.has(el)) base.set(el, now);
        const [text, box] = measured[els.indexOf(el)];
        const k = Math.min(box / text, el.clientHeight / el.scrollHeight);
        const floor = base.get(el) * MIN_FIT;
        return Math.max(floor, Math.floor(now * Math.min(k, 0.95) * 10) / 10);
      });
      over.forEach((el, i) => { el.style.fontSize = sizes[i] + "px"; });
    }
  }

  // ---- agents ----
  const STATE_WORDS = {
    available: "available", on_contact: "on contact", after_contact_work: "wrap-up",
    not_ready: "not ready", offline: "offline",
  };
  function agentTexts(a) {
    const contacts = a.contacts || [];
    const first = contacts[0];
    return {
      name: a.name || a.agent_id,
      time: clock(a.state_seconds),
      state: (STATE_WORDS[a.state] || a.state) + (a.reason ? " · " + a.reason : ""),
      contact: first ? first.queue + " " + first.channel + " " + clock(first.seconds) +
        (contacts.length > 1 ? " +" + (contacts.length - 1) : "") : "",
    };
  }

  function newAgentCell(a) {
    const el = document.createElement("div");
    el.className = "agent";
    el.dataset.agentId = a.agent_id;
    const top = document.createElement("div");
    top.className = "row";
    top.append(textBlock("name", "clip"), textBlock("time", "clip"));
    const bottom = document.createElement("div");
    bottom.className = "row";
    bottom.append(textBlock("state", "clip"), textBlock("contact", "clip"));
    el.append(top, bottom);
    return el;
  }

  function fillAgentCell(el, a) {
    // A text too long for the cell ends in "…"; its title holds it whole.
    for (const [k, v] of Object.entries(agentTexts(a))) {
      const t = el.querySelector("." + k);
      t.textContent = v;
      t.title = v;
    }
  }

  function agentCell(a) {
    let el = agentGrid.querySelector('[data-agent-id="' + CSS.escape(a.agent_id) + '"]');
    if (!el) el = newAgentCell(a);
    fillAgentCell(el, a);
    el.dataset.state = a.state;
    el.dataset.reason = a.reason || "";
    el.dataset.stateSeconds = String(a.state_seconds);
    el.dataset.stale = fresh(agentsAt) ? "false" : "true";
    return el;
  }

  // The agent grid's type: every text at the floor (14 px at 1280x720, times the scale),
  // larger (up to 1.5 x) while all agents still fit on one page. A cell is CELL_EM wide at
  // least (a longer name ends in "…") and as high as a real cell's two lines.
  const CELL_EM = 16;
  const GROW = [1.5, 1.4, 1.3, 1.2, 1.1, 1];
  function cellHeightEm(sample) {
    // A probe cell, measured and removed in the same task: it is never painted.
    const probe = newAgentCell(sample);
    fillAgentCell(probe, sample);
    probe.style.cssText = "position: absolute; visibility: hidden; height: auto; width: " +
      CELL_EM + "em";
    agentGrid.append(probe);
    const h = probe.getBoundingClientRect().height;
    const f = parseFloat(getComputedStyle(probe).fontSize);
    probe.remove();
    return f > 0 ? h / f : 3;
  }

  function pageSize(count, sample) {
    const gap = parseFloat(getComputedStyle(agentGrid).columnGap) || 0;
    const W = agentGrid.clientWidth, H = agentGrid.clientHeight;
    const floor = floors().label, high = cellHeightEm(sample);
    let pick = null;
    for (const k of GROW) {
      const font = floor * k;
      const cols = Math.max(1, Math.floor((W + gap) / (CELL_EM * font + gap)));
      const rows = Math.max(1, Math.floor((H + gap) / (high * font + gap)));
      pick = { cols, rows, font };
      if (cols * rows >= count) break;
    }
    return pick;
  }

  // The floor as a CSS length (--floor), for the agent grid's header and note.
  function setFloor() {
    const px = floors().label + "px";
    if (document.body.style.getPropertyValue("--floor") !== px) {
      document.body.style.setProperty("--floor", px);
    }
  }

  function setAgentsState(state, note) {
    const changed = agentsBox.dataset.state !== state;
    agentsBox.dataset.state = state;
    if (note !== undefined) agentsNote.textContent = note;
    if (changed) { api.layout = null; render(); }  // the board's height changed
  }

  function renderAgents() {
    setFloor();
    if (agentsState === "missing") {
      setAgentsState("missing", "no agent data: this ccmon does not serve GET /api/v1/agents");
    } else if (agents === null) {
      setAgentsState(agentsState === "error" ? "empty" : "loading",
        agentsState === "error" ? "no agent data: the agents API does not answer" :
          "no agent data yet");
    } else if (!agents.length) {
      setAgentsState("empty", team ? "no agent of team " + team + " is signed in" :
        "no agent is signed in");
    } else {
      setAgentsState(fresh(agentsAt) ? "ok" : "stale");
    }
    const list = agents || [];
    agentsTitle.textContent = "agents" + (team ? " · team " + team : "") +
      (list.length ? " · " + list.length : "");
    if (!list.length || agentsBox.dataset.state === "missing") {
      agentGrid.replaceChildren();
      api.agentPages = 0;
      agentsPageLabel.textContent = "";
      return;
    }
    agentGrid.style.fontSize = "";
    const { cols, rows, font } = pageSize(list.length, list[0]);
    agentGrid.style.fontSize = font + "px";
    // The fewest pages, the agents shared evenly (16 in two pages: 8 and 8, not 15 and 1).
    agentPerPage = Math.ceil(list.length / Math.ceil(list.length / (cols * rows)));
    const pages = Math.ceil(list.length / agentPerPage);  // no empty last page
    agentPage = ((agentPage % pages) + pages) % pages;
    agentGrid.style.setProperty("--acols", cols);
    agentGrid.style.setProperty("--arows", rows);
    const slice = list.slice(agentPage * agentPerPage, (agentPage + 1) * agentPerPage);
    agentGrid.replaceChildren(...slice.map(agentCell));
    api.agentPages = pages;
    api.agentPage = agentPage;
    agentsPageLabel.textContent = pages > 1 ? "page " + (agentPage + 1) + "/" + pages : "";
    api.agentFont = font;
  }

  // ---- status and staleness ----
  function showStatus() {
    if (refused) {
      status.dataset.state = "stale";
      status.textContent = "the read API wants a token: open /wallboard#token=<CCMON_API_TOKEN>";
    } else if (fresh(lastOk)) {
      status.dataset.state = "ok";
      status.textContent = "updated " + new Date(lastOk).toLocaleTimeString();
    } else {
      status.dataset.state = "stale";
      status.textContent = lastOk === null ? "no data from ccmon yet" :
        "no data since " + new Date(lastOk).toLocaleTimeString();
    }
  }

  // ---- polling ----
  async function loadConfig() {
    try {
      const r = await fetch("/wallboard/config.json", { cache: "no-store" });
      if (r.ok) config = Object.assign(config, await r.json());
    } catch (e) { /* keep the last one */ }
  }

  async function pollEwt() {
    try {
      const data = await getJson("/api/v1/routing/queues");
      for (const q of data.queues) {
        for (const [ch, c] of Object.entries(q.channels)) ewt[q.queue + "|" + ch] = c.ewt_seconds;
      }
      ewtState = "ok";
      ewtAt = Date.now();
    } catch (e) {
      ewtState = e.status === 404 ? "missing" : ewtState === "ok" ? "ok" : "error";
    }
  }

  let todayBusy = false;
  async function pollToday(only) {
    if (todayBusy || index === null) return;
    todayBusy = true;
    try {
      const names = Array.from(new Set(shownRows().map((r) => r.queue)))
        .filter((q) => !only || !(q in todayAt));
      await Promise.all(names.map(async (q) => {
        try {
          const d = await getJson("/api/v1/queues/" + encodeURIComponent(q));
          for (const [ch, c] of Object.entries(d.channels)) {
            const w = c.windows && c.windows.today;
            today[q + "|" + ch] = w ? w.service_level : null;
          }
          todayAt[q] = Date.now();
        } catch (e) { /* dimmed until the next try */ }
      }));
    } finally {
      todayBusy = false;
    }
    render();
  }

  async function poll() {
    refused = false;
    try {
      const [data] = await Promise.all([getJson("/api/v1/queues"), pollEwt()]);
      index = data;
      lastOk = Date.now();
      render();
      api.polls += 1;
      api.last = data;
      if (shownRows().some((r) => !(r.queue in todayAt))) pollToday(true);
    } catch (e) {
      render();  /* dimmed and shown as stale below; the next poll tries again */
    }
    showStatus();
    setTimeout(poll, Math.min(config.refresh_ms || 1000, 2000));
  }

  async function pollAgents() {
    try {
      const query = team ? "?team=" + encodeURIComponent(team) : "";
      const data = await getJson("/api/v1/agents" + query);
      let list = data.agents || [];
      if (team) {
        list = list.filter((a) => a.team === team);
        teamQueues = new Set(list.flatMap((a) => a.queues || []));
      }
      if (wantedQueues) {
        list = list.filter((a) => (a.queues || []).some((q) => wantedQueues.has(q)));
      }
      agents = list;
      agentsState = "ok";
      agentsAt = Date.now();
      api.lastAgents = data;
    } catch (e) {
      agentsState = e.status === 404 ? "missing" : "error";
      if (agentsState === "missing") agents = null;
    }
    renderAgents();
    render();
    setTimeout(pollAgents, config.agents_refresh_ms || 2000);
  }

  window.addEventListener("resize", () => {
    api.layout = null;
    render();
    fit(document.querySelector("header"));
    fit(document.querySelector("footer"));
    renderAgents();
  });
  loadConfig().then(() => {
    fit(document.querySelector("header"));
    fit(document.querySelector("footer"));
    poll();
    pollAgents();
    setInterval(() => pollToday(false), config.today_refresh_ms || 10000);
    setInterval(() => { if (api.agentPages > 1) { agentPage += 1; renderAgents(); } },
      config.agents_page_ms || 8000);
    setInterval(() => { if (api.layout && api.layout.pages > 1) { queuePage += 1; render(); } },
      queuePageMs);
    setInterval(() => { showStatus(); render(); renderAgents(); }, 1000);
  });
  setInterval(loadConfig, 60000);
})();
