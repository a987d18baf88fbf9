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

  class APIError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || "The request failed (HTTP " + status + ").");
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
    list.replaceChildren(...endpoints.map(renderEndpoint));
    show($("empty"), endpoints.length === 0);
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
    for (const b of li.querySelectorAll("button[data-action]")) {
      b.setAttribute("aria-label", b.textContent + " (" + ep.url + ")");
      b.addEventListener("click", () => act(b.dataset.action, ep, li, b));
    }
    return li;
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
          show(li.querySelector(".confirm"), true);
          li.querySelector('[data-action="confirm-delete"]').focus();
          return;
        case "cancel-delete":
          show(li.querySelector(".confirm"), false);
          li.querySelector('[data-action="delete"]').focus();
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
        case "deliveries":
          await toggleDeliveries(ep, li, button);
          return;
      }
    } catch (err) {
      if (err.status !== 401) notice(err.message, "error");
    }
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
    const p = document.createElement("p");
    p.textContent = "Verify each webhook's signature with this secret (Standard Webhooks):";
    const code = document.createElement("code");
    code.textContent = secret.key;
    box.replaceChildren(p, code);
    expand(box, button, true);
  }

  async function toggleDeliveries(ep, li, button) {
    const box = li.querySelector(".deliveries");
    if (!box.hidden) {
      expand(box, button, false);
      return;
    }
    const page = await api("GET", "/endpoints/" + ep.id + "/deliveries?limit=20");
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
      for (const h of ["Time", "Event type", "Status", "Attempts", "Last answer"]) {
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
      }
      box.replaceChildren(table);
    }
    expand(box, button, true);
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
    clearErrors();
    const form = $("endpoint-form");
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
    clearErrors();
    show($("editor"), false);
  }

  function clearErrors() {
    for (const el of document.querySelectorAll("#endpoint-form .error")) {
      el.textContent = "";
      show(el, false);
    }
    for (const el of document.querySelectorAll("#endpoint-form [aria-invalid]")) {
      el.removeAttribute("aria-invalid");
    }
  }

  // fieldError shows the API's message next to the field it names, or
  // under the form. "eventTypes[2]" is the third event type sent: the third
  // checked box.
  function fieldError(err) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(err.field || "") || [];
    const field = m[1] || "";
    const target = $(field + "-error") || $("form-error");
    target.textContent = err.message;
    show(target, true);
    let input = $(field);
    if (field === "eventTypes") {
      input = document.querySelectorAll("#event-types input:checked")[Number(m[2] || 0)];
    }
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
    clearErrors();
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
      if (err.status !== 401) fieldError(err);
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
