"use strict";

const $ = (id) => document.getElementById(id);
const state = { resolution: "D" };

// The key may arrive in the URL's fragment, `#api-key=<key>` (URL-encoded): a fragment never
// reaches a server or its logs. The page keeps it for the tab (sessionStorage) and takes it out
// of the address bar.
const KEY_FRAGMENT = "api-key";
const KEY_STORAGE = "dashboard-api-key";
const KEY_PLACEHOLDERS = { local: "API key (printed by the local deploy)" };
const KEY_PLACEHOLDER = "API key (required)";
const ENTER_KEY = "Enter your API key in the box at the top to see this.";
const KEY_REFUSED = "Enter your API key in the box at the top: the one given was not accepted.";

/** The data needs an API key the page does not have (none given, or one the API refused). */
class NeedsApiKey extends Error {}

function apiKey() {
  return $("api-key").value.trim();
}

async function getJSON(path) {
  if (!apiKey()) throw new NeedsApiKey(ENTER_KEY);
  const response = await fetch(path, { headers: { Authorization: `Bearer ${apiKey()}` } });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) throw new NeedsApiKey(KEY_REFUSED);
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : response.statusText;
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

/** The key in the address bar's fragment, if any, removed from the address bar. */
function takeKeyFromFragment() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const key = fragment.get(KEY_FRAGMENT);
  if (key === null) return null;
  fragment.delete(KEY_FRAGMENT);
  const rest = fragment.toString();
  const url = `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ""}`;
  history.replaceState(history.state, "", url);
  return key.trim();
}

function useKey(key) {
  $("api-key").value = key;
  sessionStorage.setItem(KEY_STORAGE, key);
}

async function loadHealth() {
  const badge = $("health");
  try {
    const response = await fetch("health");
    const body = await response.json();
    if (body.environment) $("api-key").placeholder = KEY_PLACEHOLDERS[body.environment] || KEY_PLACEHOLDER;
    badge.textContent = body.status === "healthy" ? `healthy · ${body.environment}` : "unhealthy";
    badge.className = `badge ${body.status === "healthy" ? "ok" : "bad"}`;
    badge.title = body.error || body.table || "";
  } catch (error) {
    badge.textContent = "unreachable";
    badge.className = "badge bad";
  }
}

function countTile(label, value, css) {
  const tile = document.createElement("div");
  tile.className = `count ${css || ""}`;
  const number = document.createElement("b");
  number.textContent = value;
  tile.append(number, label);
  return tile;
}

async function loadSentiment() {
  const error = $("sentiment-error");
  try {
    const metrics = await getJSON(`api/v2/metrics?hours=${$("hours").value}`);
    const c = metrics.counts;
    $("counts").replaceChildren(
      countTile("articles", c.total),
      countTile("average score", c.average_score === null ? "–" : c.average_score.toFixed(2)),
      countTile("positive", c.positive, "positive"),
      countTile("negative", c.negative, "negative"),
    );
    $("top-tags").replaceChildren(...Object.entries(metrics.top_tags).map(([tag, n]) => {
      const item = document.createElement("li");
      item.textContent = `${tag} ${n}`;
      return item;
    }));
    error.hidden = true;
  } catch (failure) {
    $("counts").replaceChildren();
    $("top-tags").replaceChildren();
    error.textContent = failure instanceof NeedsApiKey ? failure.message : `Sentiment unavailable (${failure.message})`;
    error.hidden = false;
  }
}

function drawCandles(candles) {
  const canvas = $("chart");
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (!candles.length) return;
  const pad = { left: 56, right: 12, top: 12, bottom: 24 };
  const lows = candles.map((c) => c.low);
  const highs = candles.map((c) => c.high);
  const min = Math.min(...lows);
  const max = Math.max(...highs);
  const span = max - min || 1;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const y = (price) => pad.top + plotH * (1 - (price - min) / span);
  const step = plotW / candles.length;
  const body = Math.max(1, Math.min(12, step * 0.7));
  ctx.font = "11px system-ui";
  ctx.fillStyle = "#8b949e";
  ctx.strokeStyle = "#2a313c";
  for (let i = 0; i <= 4; i += 1) {
    const price = min + (span * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.left, y(price));
    ctx.lineTo(width - pad.right, y(price));
    ctx.stroke();
    ctx.fillText(price.toFixed(2), 4, y(price) + 4);
  }
  ctx.fillText(candles[0].date, pad.left, height - 6);
  const lastLabel = candles[candles.length - 1].date;
  ctx.fillText(lastLabel, width - pad.right - ctx.measureText(lastLabel).width, height - 6);
  candles.forEach((c, i) => {
    const x = pad.left + step * i + step / 2;
    const color = c.close >= c.open ? "#26a269" : "#e5484d";
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(x, y(c.high));
    ctx.lineTo(x, y(c.low));
    ctx.stroke();
    const top = y(Math.max(c.open, c.close));
    ctx.fillRect(x - body / 2, top, body, Math.max(1, y(Math.min(c.open, c.close)) - top));
  });
}

async function loadChart() {
  const status = $("chart-status");
  const ticker = $("ticker").value.trim().toUpperCase();
  const fallback = $("fallback");
  status.dataset.state = "loading";
  status.textContent = "Loading…";
  try {
    const data = await getJSON(
      `api/v2/tickers/${encodeURIComponent(ticker)}/ohlc?range=${$("range").value}&resolution=${state.resolution}`,
    );
    drawCandles(data.candles);
    fallback.hidden = !data.resolution_fallback;
    fallback.textContent = data.fallback_message || "";
    status.dataset.state = "ready";
    status.dataset.resolution = data.resolution;
    status.dataset.count = String(data.count);
    status.textContent = `${data.ticker}: ${data.count} candles (${data.resolution}), ${data.start_date} → ${data.end_date}`;
  } catch (failure) {
    drawCandles([]);
    fallback.hidden = true;
    status.dataset.state = "error";
    status.textContent = failure instanceof NeedsApiKey ? failure.message : `No chart: ${failure.message}`;
  }
}

function selectResolution(button) {
  state.resolution = button.dataset.resolution;
  document.querySelectorAll("#resolution button").forEach((b) => b.classList.toggle("active", b === button));
  loadChart();
}

function loadData() {
  loadSentiment();
  loadChart();
}

function init() {
  const given = takeKeyFromFragment();
  if (given) useKey(given);
  else $("api-key").value = sessionStorage.getItem(KEY_STORAGE) || "";
  $("api-key").addEventListener("change", () => {
    useKey(apiKey());
    loadData();
  });
  window.addEventListener("hashchange", () => {
    const key = takeKeyFromFragment();
    if (key) {
      useKey(key);
      loadData();
    }
  });
  document.querySelectorAll("#resolution button").forEach((button) => {
    button.addEventListener("click", () => selectResolution(button));
  });
  $("hours").addEventListener("change", loadSentiment);
  $("range").addEventListener("change", loadChart);
  $("chart-controls").addEventListener("submit", (event) => { event.preventDefault(); loadChart(); });
  $("ticker").addEventListener("change", loadChart);
  loadHealth();
  loadData();
}

init();
