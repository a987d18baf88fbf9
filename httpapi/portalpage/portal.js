// The developer portal: one customer's webhook endpoints, managed through
// the portal API with the session token from the link they were sent.
// No framework and no build step; every value from the API reaches the
// page through textContent, never as HTML.
"use strict";

(function () {
  const API = document.querySelector('meta[name="nahook-api"]').content.replace(/\/$/, "");
  const TOKEN_KEY = "nahook-portal-token";
  const $ = (id) => document.getElementById(id);

  // The token arrives in the fragment (#token=nhp_…), which no server sees.
  // Keep it for this tab only and take it out of the address bar, so that
  // it is not bookmarked, shared or left in the history.
  function takeToken() {
    const params = new URLSearchParams(location.hash.slice(1));
    const fromLink = params.get("token");
    if (fromLink) {
      sessionStorage.setItem(TOKEN_KEY, fromLink);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  const token = takeToken();
  let eventTypes = []; // published in this environment, by name
  let editing = null; // the endpoint being edited, or null when adding

  // What the page says for errors whose message, written for developers,
  // does not tell a customer what to do.
  const advice = {
    endpoint_disabled: "This endpoint is disabled. Enable it first, then send again.",
  };

  class APIError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(advice[e.code] || e.message || "The request failed (HTTP " + status + ").");
      this.status = status;
      this.code = e.code;
      this.field = e.field;
    }
  }

  async function api(method, path, body) {
    const init = { method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (err) {
      throw new APIError(0, { error: { message: "The server could not be reached. Check your connection and try again." } });
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new APIError(res.status, data);
      if (res.status === 401) expired(err.message);
      throw err;
    }
    return data;
  }

  function show(el, visible) {
    el.hidden = !visible;
  }

  function notice(message, kind) {
    const n = $("notice");
    n.textContent = message || "";
    n.className = "notice" + (kind ? " " + kind : "");
    show(n, Boolean(message));
  }

  function expired(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    show($("portal"), false);
    show($("loading"), false);
    show($("sign-out"), false);
    notice((message || "This portal session is no longer valid.") + " Open the link you were given again, or ask for a new one.", "error");
  }

  function when(iso) {
    return new Date(iso).toLocaleString();
  }

  // localInput is date as a datetime-local input shows it: the browser's
  // own time zone, to the minute.
  function localInput(date) {
    return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  async function start() {
    if (!token) {
      show($("loading"), false);
      notice("This page needs a portal link. Open the link you were given to manage your webhooks.", "error");
      return;
    }
    try {
      const [session, types] = await Promise.all([api("GET", "/session"), api("GET", "/event-types")]);
      eventTypes = types.data;
      $("scope").textContent = session.applicationName + " · " + session.environmentName + " · session ends " + when(session.expiresAt);
      show($("sign-out"), true);
      await refresh();
      show($("loading"), false);
      show($("portal"), true);
    } catch (err) {
      show($("loading"), false);
      if (err.status !== 401) notice(err.message, "error");
    }
  }

  async function refresh() {
    const list = $("endpoints");
    let endpoints = [];
    let cursor = "";
    do {
      const page = await api("GET", "/endpoints?limit=250" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      endpoints = endpoints.concat(page.data);
      cursor = page.nextCursor;
    } while (cursor);
    const cards = endpoints.map(renderEndpoint);
    list.replaceChildren(...cards);
    show($("empty"), endpoints.length === 0);
    // Health comes after the list, card by card: a slow figure holds up
    // nothing else.
    endpoints.forEach((ep, i) => showHealth(ep, cards[i]));
  }

  // showHealth writes the endpoint's success rate, attempts and latency
  // over the last hour and day in its card.
  async function showHealth(ep, li) {
    const hour = li.querySelector(".health-hour");
    const day = li.querySelector(".health-day");
    try {
      const h = await api("GET", "/endpoints/" + ep.id + "/health");
      hour.textContent = describeWindow("Last hour", "the last hour", h.lastHour);
      day.textContent = describeWindow("Last 24 hours", "the last 24 hours", h.lastDay);
    } catch (err) {
      hour.textContent = err.status === 401 ? "" : "Health figures are unavailable right now.";
      day.textContent = "";
    }
  }

  const count = new Intl.NumberFormat("en-US");

  // describeWindow says how one window of an endpoint's attempts went:
  // "Last hour: 98.2% of 1,234 attempts succeeded, p50 120 ms, p99 900 ms".
  // The rate is rounded down, so that one failure never shows as 100.0%.
  function describeWindow(label, period, w) {
    if (w.attempts === 0) return "No attempts in " + period;
    const rate = (Math.floor(w.successRate * 1000) / 10).toFixed(1) + "%";
    return label + ": " + rate + " of " + count.format(w.attempts) + (w.attempts === 1 ? " attempt" : " attempts") +
      " succeeded, p50 " + latency(w.p50Ms) + ", p99 " + latency(w.p99Ms);
  }

  function latency(ms) {
    return ms < 10000 ? count.format(ms) + " ms" : count.format(Math.round(ms / 100) / 10) + " s";
  }

  function describeTypes(types) {
    if (!types || types.length === 0) return "Subscribed to no event types: receives nothing until some are chosen.";
    if (types.includes("*")) return "Receives every event type.";
    return "Receives: " + types.join(", ");
  }

  function renderEndpoint(ep) {
    const li = $("endpoint-template").content.firstElementChild.cloneNode(true);
    li.dataset.id = ep.id;
    li.querySelector(".endpoint-url").textContent = ep.url;
    const desc = li.querySelector(".endpoint-description");
    desc.textContent = ep.description;
    show(desc, Boolean(ep.description));
    li.querySelector(".endpoint-types").textContent = describeTypes(ep.eventTypes);
    const status = li.querySelector(".status");
    status.textContent = ep.disabled ? "Disabled" : "Enabled";
    status.classList.add(ep.disabled ? "off" : "on");
    const toggle = li.querySelector('[data-action="toggle"]');
    toggle.textContent = ep.disabled ? "Enable" : "Disable";
    bind(li, ep, li);
    return li;
  }

  // bind makes the buttons of an endpoint's card, or of a panel just drawn
  // in it, act on the endpoint. Each is named with the endpoint's URL unless
  // it has a name of its own: a page lists many "Edit" buttons.
  function bind(root, ep, li) {
    for (const b of root.querySelectorAll("button[data-action]")) {
      if (!b.hasAttribute("aria-label")) b.setAttribute("aria-label", b.textContent + " (" + ep.url + ")");
      b.addEventListener("click", () => act(b.dataset.action, ep, li, b));
    }
  }

  // own gives the IDs in a panel drawn from a template the endpoint's ID
  // as a suffix, and points its labels and descriptions at the renamed
  // elements: every card may show the same panel.
  function own(root, suffix) {
    const rename = (ids) => ids.split(" ").map((id) => id + "-" + suffix).join(" ");
    for (const el of root.querySelectorAll("[id]")) el.id = rename(el.id);
    if (root.id) root.id = rename(root.id);
    for (const el of root.querySelectorAll("label[for]")) el.htmlFor = rename(el.htmlFor);
    for (const attr of ["aria-describedby", "aria-labelledby"]) {
      for (const el of [root, ...root.querySelectorAll("[" + attr + "]")]) {
        if (el.hasAttribute(attr)) el.setAttribute(attr, rename(el.getAttribute(attr)));
      }
    }
  }

  async function act(action, ep, li, button) {
    notice("");
    try {
      switch (action) {
        case "edit":
          openEditor(ep);
          return;
        case "toggle":
          await api("PATCH", "/endpoints/" + ep.id, { disabled: !ep.disabled });
          await refresh();
          notice(ep.disabled ? "Endpoint enabled." : "Endpoint disabled.", "ok");
          // The list was drawn again: keep focus on the same button.
          focusIn(ep.id, '[data-action="toggle"]');
          return;
        case "delete":
        case "rotate":
          confirming(li, action, true);
          return;
        case "cancel-delete":
        case "cancel-rotate":
          confirming(li, action.slice("cancel-".length), false);
          return;
        case "confirm-delete":
          await api("DELETE", "/endpoints/" + ep.id);
          if (editing && editing.id === ep.id) closeEditor();
          await refresh();
          notice("Endpoint " + ep.url + " deleted.", "ok");
          $("add").focus();
          return;
        case "secret":
          await toggleSecret(ep, li, button);
          return;
        case "confirm-rotate": {
          const secret = await api("POST", "/endpoints/" + ep.id + "/secret/rotate");
          li.querySelector(".secret-key").textContent = secret.key;
          confirming(li, "rotate", false);
          notice("Signing secret rotated. For a grace period webhooks are signed with the previous one too.", "ok");
          return;
        }
        case "deliveries":
          await toggleDeliveries(ep, li, button);
          return;
        case "details": {
          if (button.getAttribute("aria-expanded") === "true") {
            li.querySelector(".delivery-detail")?.remove();
            button.setAttribute("aria-expanded", "false");
            return;
          }
          const section = await deliveryDetail(ep, li, button.dataset.delivery);
          showDelivery(li, section);
          section.querySelector("h4").focus();
          return;
        }
        case "resend": {
          const id = button.dataset.delivery;
          await api("POST", "/deliveries/" + encodeURIComponent(id) + "/resend");
          await showDeliveries(ep, li, id);
          notice("Delivery queued to be sent again.", "ok");
          // Drawn again: focus the same button.
          li.querySelector('.delivery-detail [data-action="resend"]').focus();
          return;
        }
        case "recovery":
          toggleRecovery(ep, li, button);
          return;
      }
    } catch (err) {
      if (err.status !== 401) notice(err.message, "error");
    }
  }

  // confirming shows or hides a card's question before an action that
  // cannot be undone (delete, rotate), and focuses its answer, or the
  // button that asked again.
  function confirming(li, action, open) {
    show(li.querySelector("." + action + "-confirm"), open);
    li.querySelector('[data-action="' + (open ? "confirm-" : "") + action + '"]').focus();
  }

  // expand shows or hides (and empties) a panel of an endpoint's card,
  // and tells assistive technology which.
  function expand(box, button, visible) {
    if (!visible) box.replaceChildren();
    show(box, visible);
    button.setAttribute("aria-expanded", String(visible));
  }

  // focusIn focuses a control of the card of endpoint id, if it is there.
  function focusIn(id, selector) {
    const card = document.querySelector('#endpoints li[data-id="' + CSS.escape(id) + '"]');
    const target = card && card.querySelector(selector);
    if (target) target.focus();
  }

  async function toggleSecret(ep, li, button) {
    const box = li.querySelector(".secret");
    if (!box.hidden) {
      expand(box, button, false);
      return;
    }
    const secret = await api("GET", "/endpoints/" + ep.id + "/secret");
    const panel = $("secret-template").content.firstElementChild.cloneNode(true);
    panel.querySelector(".secret-key").textContent = secret.key;
    bind(panel, ep, li);
    box.replaceChildren(panel);
    expand(box, button, true);
  }

  async function toggleDeliveries(ep, li, button) {
    const box = li.querySelector(".deliveries");
    if (!box.hidden) {
      expand(box, button, false);
      return;
    }
    await showDeliveries(ep, li);
    expand(box, button, true);
  }

  // showDeliveries draws the endpoint's recent deliveries in its card and,
  // when open is a delivery's ID, that delivery's details below them. What
  // is there stays until all is fetched: the page does not jump about.
  async function showDeliveries(ep, li, open) {
    const box = li.querySelector(".deliveries");
    const [page, detail] = await Promise.all([
      api("GET", "/endpoints/" + ep.id + "/deliveries?limit=20"),
      open ? deliveryDetail(ep, li, open) : null,
    ]);
    if (page.data.length === 0) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = "No deliveries yet.";
      box.replaceChildren(p);
    } else {
      const table = document.createElement("table");
      const caption = table.createCaption();
      caption.textContent = "The " + page.data.length + " most recent deliveries";
      const head = table.createTHead().insertRow();
      for (const h of ["Time", "Event type", "Status", "Attempts", "Last answer", "Details"]) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = h;
        head.appendChild(th);
      }
      const body = table.createTBody();
      for (const d of page.data) {
        const row = body.insertRow();
        const answer = d.lastStatusCode ? "HTTP " + d.lastStatusCode : d.lastError || "—";
        for (const v of [when(d.createdAt), d.eventType || "(sent directly)", d.status, String(d.attemptCount), answer]) {
          row.insertCell().textContent = v;
        }
        row.cells[2].className = "delivery-" + d.status;
        const details = document.createElement("button");
        details.type = "button";
        details.className = "secondary";
        details.textContent = "Details";
        details.dataset.action = "details";
        details.dataset.delivery = d.id;
        details.setAttribute("aria-expanded", "false");
        details.setAttribute("aria-label", "Details of the " + (d.eventType || "direct") + " delivery of " + when(d.createdAt));
        row.insertCell().appendChild(details);
      }
      bind(table, ep, li);
      box.replaceChildren(table);
    }
    if (detail) showDelivery(li, detail);
  }

  // showDelivery puts a delivery's details (from deliveryDetail) under the
  // endpoint's deliveries, in place of any other's.
  function showDelivery(li, section) {
    const box = li.querySelector(".deliveries");
    const old = box.querySelector(".delivery-detail");
    if (old) old.replaceWith(section);
    else box.appendChild(section);
    for (const b of box.querySelectorAll('[data-action="details"]')) {
      b.setAttribute("aria-expanded", String(b.dataset.delivery === section.dataset.delivery));
    }
  }

  // deliveryDetail fetches a delivery and draws its details: every
  // attempt, with the answer received as text (the receiver is not to be
  // trusted with the page).
  async function deliveryDetail(ep, li, id) {
    const d = await api("GET", "/deliveries/" + encodeURIComponent(id));
    const section = $("delivery-template").content.firstElementChild.cloneNode(true);
    own(section, ep.id);
    section.dataset.delivery = d.id;
    section.querySelector("h4").textContent = "Delivery of " + (d.eventType || "a direct message") + ", " + when(d.createdAt);
    let summary = "Status: " + d.status + " · webhook-id " + d.eventId;
    if (d.nextAttemptAt) summary += " · next attempt " + when(d.nextAttemptAt);
    section.querySelector(".delivery-summary").textContent = summary;
    section.querySelector('[data-action="resend"]').dataset.delivery = d.id;
    const body = section.querySelector("tbody");
    for (const a of d.attempts) {
      const row = body.insertRow();
      const answer = a.statusCode === null ? a.error || "No answer" : "HTTP " + a.statusCode;
      for (const v of [String(a.number), when(a.attemptedAt), answer, a.durationMs + " ms"]) {
        row.insertCell().textContent = v;
      }
      const ok = a.statusCode !== null && a.statusCode >= 200 && a.statusCode < 300;
      row.cells[2].className = ok ? "delivery-succeeded" : "delivery-failed";
      const cell = row.insertCell();
      if (a.response) {
        const pre = document.createElement("pre");
        pre.className = "response";
        pre.textContent = a.response;
        cell.appendChild(pre);
      } else {
        cell.textContent = "—";
      }
    }
    show(section.querySelector(".attempts"), d.attempts.length > 0);
    show(section.querySelector(".no-attempts"), d.attempts.length === 0);
    bind(section, ep, li);
    return section;
  }

  // Recovery: sending an endpoint again what failed, or what it missed.

  function toggleRecovery(ep, li, button) {
    const box = li.querySelector(".recovery");
    if (!box.hidden) {
      expand(box, button, false);
      return;
    }
    const forms = $("recovery-template").content.firstElementChild.cloneNode(true);
    own(forms, ep.id);
    const dayAgo = localInput(new Date(Date.now() - 24 * 60 * 60 * 1000));
    for (const input of forms.querySelectorAll('input[name="since"]')) input.value = dayAgo;
    recoveryForm(forms.querySelector(".recover-form"), ep, li, "/recover", (n) =>
      n === 0 ? "No failed deliveries in that period." : counted(n, "failed delivery", "failed deliveries") + " queued to be sent again.");
    recoveryForm(forms.querySelector(".replay-form"), ep, li, "/replay-missing", (n) =>
      n === 0 ? "No missed events since then." : counted(n, "missed event", "missed events") + " queued to be sent.");
    box.replaceChildren(forms);
    expand(box, button, true);
    forms.querySelector("input").focus();
  }

  function counted(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  // recoveryForm makes form send its times to path under the endpoint
  // (recover, replay-missing) and say, in told's words, how many
  // deliveries were queued; or the API's error, under the field it names.
  function recoveryForm(form, ep, li, path, told) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      notice("");
      const result = form.querySelector(".result");
      result.textContent = "";
      const body = {};
      for (const input of form.querySelectorAll("input")) {
        // The input holds local time; the API takes RFC 3339. Empty is
        // left out: "until" is optional, and the API names a missing
        // "since" itself. What is not a time goes as typed, for the API
        // to refuse by name.
        if (!input.value) continue;
        const t = new Date(input.value);
        body[input.name] = isNaN(t) ? input.value : t.toISOString();
      }
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        const res = await api("POST", "/endpoints/" + ep.id + path, body);
        // What was queued shows in the deliveries, if they are open; a
        // list left as it was is no reason to say the recovery failed.
        if (!li.querySelector(".deliveries").hidden) {
          await showDeliveries(ep, li, li.querySelector(".delivery-detail")?.dataset.delivery).catch(() => {});
        }
        result.textContent = told(res.queued);
        button.disabled = false;
        button.focus();
      } catch (err) {
        if (err.status !== 401) fieldError(form, err);
      } finally {
        button.disabled = false;
      }
    });
  }

  // The editor: adding an endpoint, or editing one.

  function typeChoice(value, label, checked) {
    const wrap = document.createElement("label");
    wrap.className = "choice";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "eventTypes";
    box.value = value;
    box.checked = checked;
    wrap.append(box, " " + label);
    return wrap;
  }

  function openEditor(ep) {
    editing = ep;
    const form = $("endpoint-form");
    clearErrors(form);
    form.reset();
    $("editor-heading").textContent = ep ? "Edit endpoint" : "Add endpoint";
    $("save").textContent = ep ? "Save changes" : "Add endpoint";
    $("url").value = ep ? ep.url : "";
    $("description").value = ep ? ep.description : "";
    $("disabled").checked = ep ? ep.disabled : false;
    const subscribed = new Set(ep ? ep.eventTypes : []);
    const choices = [typeChoice("*", "All event types", subscribed.has("*"))];
    for (const et of eventTypes) {
      const text = et.description ? et.name + ": " + et.description : et.name;
      choices.push(typeChoice(et.name, text, subscribed.has(et.name)));
    }
    // Keep subscriptions the list does not show (wildcards such as
    // order.*), so that saving an edit does not drop them.
    const shown = new Set(["*"].concat(eventTypes.map((et) => et.name)));
    for (const name of subscribed) {
      if (!shown.has(name)) choices.push(typeChoice(name, name, true));
    }
    $("event-types").replaceChildren(...choices);
    show($("editor"), true);
    $("url").focus();
  }

  function closeEditor() {
    editing = null;
    clearErrors($("endpoint-form"));
    show($("editor"), false);
  }

  function clearErrors(form) {
    for (const el of form.querySelectorAll(".error")) {
      el.textContent = "";
      show(el, false);
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
    }
  }

  // fieldError shows the API's message in form next to the field it names
  // (the .error whose data-field is the field's name), or under the form
  // (data-field=""), and focuses the field. Of several inputs of one name,
  // the index counts those sent: "eventTypes[2]" is the third checked box.
  function fieldError(form, err) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(err.field || "") || [];
    const field = m[1] || "";
    const target = (field && form.querySelector('.error[data-field="' + field + '"]')) || form.querySelector('.error[data-field=""]');
    target.textContent = err.message;
    show(target, true);
    let inputs = field ? Array.from(form.querySelectorAll('[name="' + field + '"]')) : [];
    if (inputs.length > 1 || m[2] !== undefined) inputs = inputs.filter((b) => b.checked);
    const input = inputs[Number(m[2] || 0)];
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  async function save(event) {
    event.preventDefault();
    const form = $("endpoint-form");
    clearErrors(form);
    notice("");
    const body = {
      url: $("url").value.trim(),
      description: $("description").value.trim(),
      eventTypes: Array.from(document.querySelectorAll('#event-types input:checked'), (b) => b.value),
      disabled: $("disabled").checked,
    };
    const button = $("save");
    button.disabled = true;
    try {
      if (editing) {
        await api("PATCH", "/endpoints/" + editing.id, body);
      } else {
        await api("POST", "/endpoints", body);
      }
      const edited = editing;
      closeEditor();
      await refresh();
      notice(edited ? "Endpoint saved." : "Endpoint " + body.url + " added.", "ok");
      if (edited) {
        focusIn(edited.id, '[data-action="edit"]');
      } else {
        $("add").focus();
      }
    } catch (err) {
      if (err.status !== 401) fieldError(form, err);
    } finally {
      button.disabled = false;
    }
  }

  async function signOut() {
    try {
      await api("DELETE", "/session");
    } catch (err) {
      // Signed out either way: the token is forgotten below.
    }
    sessionStorage.removeItem(TOKEN_KEY);
    show($("portal"), false);
    show($("sign-out"), false);
    notice("You have signed out. Open your portal link again to come back.", "ok");
    $("main").focus(); // the focused button is gone
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("add").addEventListener("click", () => openEditor(null));
    $("cancel").addEventListener("click", () => {
      closeEditor();
      $("add").focus();
    });
    $("endpoint-form").addEventListener("submit", save);
    $("sign-out").addEventListener("click", signOut);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("editor").hidden) {
        closeEditor();
        $("add").focus();
      }
    });
    start();
  });
})();
