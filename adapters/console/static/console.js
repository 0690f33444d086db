// jokebot console: one event stream per page, decisions without reloads, keyboard moves.
// Plain JavaScript served by jokebot itself: no build step, no CDN.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const page = document.body.dataset.page;
const live = document.getElementById("live");

function say(text) {
  live.textContent = text;
  live.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { live.hidden = true; }, 6000);
}

async function fetchItem(token) {
  const response = await fetch(`/queue/items/${encodeURIComponent(token)}`, {
    headers: { Accept: "text/html" }, credentials: "same-origin",
  });
  if (!response.ok) return null;
  const holder = document.createElement("div");
  holder.innerHTML = (await response.text()).trim();
  return holder.firstElementChild;
}

// ---- the queue ------------------------------------------------------------------------
const items = document.getElementById("items");
const waiting = [];  // new reviews held back so the list does not move under the reader

function allItems() { return Array.from(document.querySelectorAll("#items .item")); }

function announce() {
  const box = document.getElementById("announce");
  if (!box) return;
  box.hidden = waiting.length === 0;
  document.getElementById("show-new").textContent =
    `${waiting.length} new review${waiting.length === 1 ? "" : "s"}: show`;
}

function showNew() {
  const empty = document.getElementById("empty");
  if (empty) empty.remove();
  while (waiting.length) items.prepend(waiting.shift());
  announce();
}

async function onQueueEvent(event) {
  if (!items) return;
  const data = event.data || {};
  if (event.event === "step" && data.wait && items.dataset.status === "pending") {
    if (document.getElementById(`r-${data.wait}`)) return;
    const element = await fetchItem(data.wait);
    if (element && element.classList.contains("status-pending")) {
      waiting.push(element);
      announce();
    }
  } else if ((event.event === "wait.decided" || event.event === "wait.expired") && data.token) {
    const current = document.getElementById(`r-${data.token}`);
    if (!current) return;
    const fresh = await fetchItem(data.token);
    if (fresh) {
      const selected = current.classList.contains("selected");
      current.replaceWith(fresh);  // in place: the list keeps its order
      if (selected) fresh.classList.add("selected");
    }
  }
}

// ---- the run page ---------------------------------------------------------------------
function onRunEvent(event) {
  const table = document.getElementById("audit");
  if (!table || event.run_id !== table.dataset.run) return;
  const row = table.tBodies[0].insertRow();
  for (const value of [event.seq, new Date(event.at * 1000).toISOString(), event.actor,
                       event.event, JSON.stringify(event.data)]) {
    row.insertCell().textContent = value;
  }
  say(`New on this run: ${event.event}`);
}

// ---- one stream per page --------------------------------------------------------------
const seenSeq = new Set();
function connect() {
  const after = document.body.dataset.seq;
  if (after === "" || after === undefined) return;
  const source = new EventSource(`/events?after=${encodeURIComponent(after)}`);
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    window.consoleReceived = (window.consoleReceived || 0) + 1;  // as sent (tests compare)
    if (seenSeq.has(event.seq)) return;
    seenSeq.add(event.seq);
    document.body.dataset.lastSeq = String(event.seq);
    window.consoleEvents = (window.consoleEvents || 0) + 1;
    if (page === "queue") onQueueEvent(event);
    if (page === "run") onRunEvent(event);
  };
}

// ---- decisions ------------------------------------------------------------------------
async function decide(form, action) {
  const body = new URLSearchParams(new FormData(form));
  body.set("action", action);
  // form.action would be the buttons named "action": read the attribute
  const response = await fetch(form.getAttribute("action"), {
    method: "POST", body, credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRF-Token": csrf },
  });
  let answer = { message: `The console answered ${response.status}.` };
  try { answer = await response.json(); } catch (_) { /* not JSON: keep the status */ }
  say(answer.message || answer.detail);
  const article = form.closest(".item");
  if (article) {
    const fresh = await fetchItem(article.dataset.token);
    if (fresh) {
      fresh.classList.toggle("selected", article.classList.contains("selected"));
      article.replaceWith(fresh);
    }
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList || !form.classList.contains("decide")) return;
  event.preventDefault();
  const action = event.submitter ? event.submitter.value : "approve";
  if (action === "edit") {
    const text = form.querySelector("textarea");
    if (text.hidden) { text.hidden = false; text.focus(); return; }
  }
  decide(form, action);
});

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target.name === "reason" && event.key === "Enter") {
    event.preventDefault();
    decide(target.form, "reject");
    return;
  }
  if (target.name === "text" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    decide(target.form, "edit");
    return;
  }
  if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || event.ctrlKey || event.metaKey || event.altKey) return;
  const list = allItems();
  let index = list.findIndex((item) => item.classList.contains("selected"));
  const selected = index >= 0 ? list[index] : null;
  const form = selected ? selected.querySelector("form.decide") : null;
  if (event.key === "j" || event.key === "k") {
    if (!list.length) return;
    index = event.key === "j" ? Math.min(list.length - 1, index + 1) : Math.max(0, index - 1);
    list.forEach((item) => item.classList.remove("selected"));
    list[index].classList.add("selected");
    list[index].focus();
    list[index].scrollIntoView({ block: "nearest" });
  } else if (event.key === "a" && form) {
    decide(form, "approve");
  } else if (event.key === "r" && form) {
    event.preventDefault();
    form.querySelector('input[name="reason"]').focus();
  } else if (event.key === "e" && form) {
    event.preventDefault();
    const text = form.querySelector("textarea");
    text.hidden = false;
    text.focus();
  } else if (event.key === "Enter" && selected) {
    window.location.href = `/runs/${selected.dataset.run}`;
  } else if (event.key === "?") {
    document.getElementById("help").showModal();
  } else {
    return;
  }
  event.preventDefault();
});

const showButton = document.getElementById("show-new");
if (showButton) showButton.addEventListener("click", showNew);
connect();
