// The developer portal: one customer's webhook endpoints, managed through
// the portal API with the session token from the link they were sent.
// No framework and no build step; every value from the API reaches the
// page through textContent, never as HTML. What it shares with the
// dashboard is in common.js, loaded before it.
"use strict";

(function () {
  const API = document.querySelector('meta[name="nahook-api"]').content.replace(/\/$/, "");
  const TOKEN_KEY = "nahook-portal-token";

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

  const {
    $, show, notice, when, api, all, clearErrors, submitting,
    expand, focusIn, own, typeChoices, showHealth, headings, deliveryRow, deliverySummary, attemptRows, recoveryForms,
  } = nahookPage({
    url: (path) => API + path,
    token: () => token,
    unauthorized: (err) => expired(err.message),
    // What the page says for errors whose message, written for
    // developers, does not tell a customer what to do.
    advice: {
      endpoint_disabled: "This endpoint is disabled. Enable it first, then send again.",
    },
    // The portal API names a field as name or name[i]. Of several inputs
    // of one name, the index counts those sent: "eventTypes[2]" is the
    // third checked box.
    field(form, path) {
      const m = /^(\w+)(?:\[(\d+)\])?$/.exec(path) || [];
      const field = m[1] || "";
      let inputs = field ? Array.from(form.querySelectorAll('[name="' + field + '"]')) : [];
      if (inputs.length > 1 || m[2] !== undefined) inputs = inputs.filter((b) => b.checked);
      return [field, inputs[Number(m[2] || 0)]];
    },
  });

  function expired(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    show($("portal"), false);
    show($("loading"), false);
    show($("sign-out"), false);
    notice((message || "This portal session is no longer valid.") + " Open the link you were given again, or ask for a new one.", "error");
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
    const endpoints = await all("/endpoints");
    const cards = endpoints.map(renderEndpoint);
    list.replaceChildren(...cards);
    show($("empty"), endpoints.length === 0);
    // Health comes after the list, card by card: a slow figure holds up
    // nothing else.
    endpoints.forEach((ep, i) => showHealth(ep, cards[i]));
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
      headings(table, ["Time", "Event type", "Status", "Attempts", "Last answer", "Details"]);
      const body = table.createTBody();
      for (const d of page.data) {
        const row = deliveryRow(body, d);
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
    section.querySelector(".delivery-summary").textContent = deliverySummary(d);
    section.querySelector('[data-action="resend"]').dataset.delivery = d.id;
    attemptRows(section.querySelector("tbody"), d.attempts);
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
    const forms = recoveryForms(ep, async () => {
      // What was queued shows in the deliveries, if they are open.
      if (!li.querySelector(".deliveries").hidden) {
        await showDeliveries(ep, li, li.querySelector(".delivery-detail")?.dataset.delivery);
      }
    }, true); // and the form's button takes focus back
    box.replaceChildren(forms);
    expand(box, button, true);
    forms.querySelector("input").focus();
  }

  // The editor: adding an endpoint, or editing one.

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
    $("event-types").replaceChildren(...typeChoices(eventTypes, new Set(ep ? ep.eventTypes : [])));
    show($("editor"), true);
    $("url").focus();
  }

  function closeEditor() {
    editing = null;
    clearErrors($("endpoint-form"));
    show($("editor"), false);
  }

  // save adds the endpoint, or saves the one being edited; submitting
  // shows an error under its field.
  async function save() {
    const body = {
      url: $("url").value.trim(),
      description: $("description").value.trim(),
      eventTypes: Array.from(document.querySelectorAll('#event-types input:checked'), (b) => b.value),
      disabled: $("disabled").checked,
    };
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
    submitting($("endpoint-form"), save);
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
