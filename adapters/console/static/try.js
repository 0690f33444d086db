// jokebot console, "try it": send a topic over a WebSocket, show the draft as it is written.
// Plain JavaScript served by jokebot itself: no build step, no CDN. Text goes in with
// textContent only; control and direction characters are dropped before it is shown.
"use strict";

(function () {
  const form = document.getElementById("try-form");
  if (!form) return;
  const topic = document.getElementById("try-topic");
  const go = document.getElementById("try-go");
  const status = document.getElementById("try-status");
  const draft = document.getElementById("try-draft");
  const earlier = document.getElementById("try-earlier");
  const queued = document.getElementById("try-queued");
  const runLink = document.getElementById("try-run");
  const invisible = /[\p{Cc}\p{Cf}\p{Co}]/gu;  // a newline is kept (a punchline line)
  const REASONS = {
    blocklist: "it used a word we never post",
    duplicate: "it was too close to an earlier joke",
    unfinished: "it stopped mid-sentence",
    empty: "it was empty",
    moderation: "the provider's moderation flagged it",
  };

  function shown(text) { return String(text || "").replace(invisible, (c) => (c === "\n" ? "\n" : "")); }

  function setStatus(text) { status.textContent = text; }

  function keepEarlier(reason) {
    if (!draft.textContent) return;
    const item = document.createElement("li");
    item.textContent = `${draft.textContent} (thrown away: ${reason})`;
    earlier.append(item);
    draft.textContent = "";
  }

  function onEvent(message) {
    switch (message.type) {
      case "accepted":
        setStatus(message.message);
        runLink.href = `/runs/${encodeURIComponent(message.run_id)}`;
        break;
      case "started":
        draft.textContent = "";
        setStatus(`Writing draft ${message.attempt}…`);
        break;
      case "delta":
        draft.textContent += shown(message.text);
        break;
      case "screened":
        keepEarlier(REASONS[message.detail] || message.detail);
        setStatus(message.final ? "No acceptable joke this time. Try another topic?"
          : "That one was not good enough; writing another…");
        break;
      case "failed":
        setStatus(message.final ? `The model gave up: ${shown(message.detail)}`
          : `The model failed (${shown(message.detail)}); it will try again shortly.`);
        break;
      case "finished":
        draft.textContent = shown(message.text);
        break;
      case "queued":
        setStatus(message.message);
        queued.hidden = false;
        break;
      case "error":
        setStatus(message.message);
        break;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = topic.value.trim();
    if (!value) return;
    go.disabled = true;
    queued.hidden = true;
    draft.textContent = "";
    earlier.replaceChildren();
    setStatus("Connecting…");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/try/ws`);
    let ended = false;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ topic: value })));
    socket.addEventListener("message", (e) => {
      try { onEvent(JSON.parse(e.data)); } catch (err) { setStatus("The server sent something odd."); }
    });
    socket.addEventListener("close", (e) => {
      ended = true;
      go.disabled = false;
      if (e.code !== 1000 && !status.textContent) setStatus("The connection closed early.");
    });
    socket.addEventListener("error", () => { if (!ended) setStatus("The connection failed."); });
  });
})();
