// The dashboard: a workspace's operator console on the dashboard API
// (/api/workspaces/{workspaceId}/…). No framework and no build step; every
// value from the API reaches the page through textContent, never as HTML.
// What it shares with the portal is in common.js, loaded before it.
"use strict";

(function () {
  const API = document.querySelector('meta[name="nahook-api"]').content.replace(/\/$/, "");
  const WS_KEY = "nahook-dashboard-workspace";
  const TOKEN_KEY = "nahook-dashboard-token";
  const VIEWS = ["portal", "event-types", "endpoints", "api-keys", "environments"];

  // The workspace and token arrive in the fragment
  // (#workspace=ws_…&token=…), which no server sees. Keep them for this tab
  // only and take them out of the address bar, so that they are not
  // bookmarked, shared or left in the history.
  function takeSignIn() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.get("token")) {
      sessionStorage.setItem(TOKEN_KEY, params.get("token"));
      if (params.get("workspace")) sessionStorage.setItem(WS_KEY, params.get("workspace"));
      history.replaceState(null, "", location.pathname + location.search);
    }
  }

  const state = {
    ws: "",
    token: "",
    envs: [], // the workspace's environments
    env: null, // the selected one
    apps: [], // the workspace's applications
    types: [], // the workspace's event types
    view: "portal",
  };

  const {
    $, show, notice, when, counted, APIError, api, all, clearErrors, fieldError, submitting,
    expand, focusIn, typeChoices, showHealth, headings, deliveryRow, deliverySummary, attemptRows, recoveryForms,
  } = nahookPage({
    url: (path) => API + "/" + encodeURIComponent(state.ws) + path,
    token: () => state.token,
    unauthorized: (err) => signedOut("token", "The token was refused: " + err.message + "."),
    // The dashboard API names a field as name, name[i] or name.key: the
    // .error of "metadata.plan" is metadata's. Of several inputs of one
    // name, the index counts those sent: "eventTypes[2]" is the third
    // checked box.
    field(form, path) {
      const m = /^(\w+)(?:[.[](\w+)\]?)?/.exec(path) || [];
      const field = m[1] || "";
      let inputs = field ? Array.from(form.querySelectorAll('[name="' + field + '"]')) : [];
      if (inputs.length > 1 && m[2] !== undefined && /^\d+$/.test(m[2])) inputs = inputs.filter((b) => b.checked);
      return [field, inputs[/^\d+$/.test(m[2] || "") ? Number(m[2]) : 0]];
    },
  });

  // el makes an element: props sets its class (class), text (text),
  // attributes (any other name) and listeners (on: {click: …});
  // children are elements or strings, added as text.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k === "on") for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  // say tells assistive technology what changed, without a visible notice.
  function say(message) {
    $("status").textContent = message;
  }

  function envName(id) {
    const env = state.envs.find((e) => e.id === id);
    return env ? env.name : id;
  }

  function appName(id) {
    const app = state.apps.find((a) => a.id === id);
    return app ? app.name : id;
  }

  // Editors: a card with a form that opens under the button that opened
  // it, takes focus, and gives it back when closed.

  const editors = {};

  function editor(name, open) {
    const section = $(name + "-editor");
    const form = section.querySelector("form");
    editors[name] = { section, form, opener: null, editing: null };
    $(name + "-cancel").addEventListener("click", () => closeEditor(name));
    section.addEventListener("keydown", (e) => {
      if (e.key === "Escape") closeEditor(name);
    });
    return (item, opener) => {
      const ed = editors[name];
      ed.editing = item || null;
      ed.opener = opener || null;
      clearErrors(form);
      form.reset();
      open(item);
      show(section, true);
      form.querySelector("input").focus();
    };
  }

  function closeEditor(name) {
    const ed = editors[name];
    if (!ed || ed.section.hidden) return;
    clearErrors(ed.form);
    show(ed.section, false);
    const back = ed.opener && ed.opener.isConnected ? ed.opener : $(name + "-create");
    ed.editing = null;
    if (back) back.focus();
  }

  // confirmPanel asks, inside box, before an action that cannot be undone:
  // question, then a button named yes that runs act, and one that keeps
  // things as they are and gives focus back to opener. An error of act is
  // shown in the panel.
  function confirmPanel(box, question, yes, act, opener) {
    box.querySelector(".confirm")?.remove();
    const error = el("p", { class: "error", hidden: true });
    const panel = el("div", { class: "confirm", role: "group", "aria-label": yes },
      ...[].concat(question).map((q) => el("p", { text: q })), error);
    const go = el("button", { type: "button", class: "danger", text: yes });
    const keep = el("button", { type: "button", class: "secondary", text: "Cancel" });
    const close = () => {
      panel.remove();
      if (opener && opener.isConnected) opener.focus();
    };
    go.addEventListener("click", async () => {
      go.disabled = true;
      try {
        await act();
      } catch (err) {
        if (err.status === 401) return;
        error.textContent = err.message;
        show(error, true);
        go.disabled = false;
      }
    });
    keep.addEventListener("click", close);
    panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
    });
    panel.append(go, keep);
    box.append(panel);
    go.focus();
    return panel;
  }

  function button(text, props, onClick) {
    return el("button", Object.assign({ type: "button", class: "secondary", text, on: { click: onClick } }, props));
  }

  // Signing in and out.

  function signedOut(field, message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = "";
    for (const id of ["sidebar", "env-switch", "sign-out", "loading"]) show($(id), false);
    for (const v of VIEWS) show($("view-" + v), false);
    notice("");
    const form = $("sign-in-form");
    clearErrors(form);
    $("sign-in-workspace").value = state.ws || sessionStorage.getItem(WS_KEY) || "";
    $("sign-in-token").value = "";
    show($("sign-in"), true);
    $("scope").textContent = "";
    if (message) {
      fieldError(form, { field, message });
    } else {
      $(state.ws ? "sign-in-token" : "sign-in-workspace").focus();
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const form = $("sign-in-form");
    clearErrors(form);
    const ws = $("sign-in-workspace").value.trim();
    const token = $("sign-in-token").value.trim();
    if (!ws) return fieldError(form, { field: "workspace", message: "Enter your workspace's ID (ws_…)." });
    if (!token) return fieldError(form, { field: "token", message: "Enter your dashboard token." });
    sessionStorage.setItem(WS_KEY, ws);
    sessionStorage.setItem(TOKEN_KEY, token);
    $("sign-in-submit").disabled = true;
    try {
      await start(true);
    } finally {
      $("sign-in-submit").disabled = false;
    }
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WS_KEY);
    state.ws = "";
    signedOut();
    notice("You have signed out.", "ok");
  }

  // start signs in with what the tab keeps, or shows the sign-in form.
  async function start(fromForm) {
    state.ws = sessionStorage.getItem(WS_KEY) || "";
    state.token = sessionStorage.getItem(TOKEN_KEY) || "";
    if (!state.ws || !state.token) {
      show($("loading"), false);
      signedOut();
      return;
    }
    try {
      await loadEnvironments();
      await loadWorkspace();
    } catch (err) {
      show($("loading"), false);
      if (err.status === 401) return;
      if (err.status === 404) {
        signedOut("workspace", "No workspace " + state.ws + " here for this token.");
      } else if (fromForm) {
        fieldError($("sign-in-form"), err);
      } else {
        notice(err.message, "error");
      }
      return;
    }
    show($("loading"), false);
    show($("sign-in"), false);
    show($("sidebar"), true);
    show($("env-switch"), true);
    show($("sign-out"), true);
    $("scope").textContent = "Workspace " + state.ws;
    await route(fromForm);
  }

  async function loadWorkspace() {
    [state.apps, state.types] = await Promise.all([all("/applications"), all("/event-types")]);
  }

  // The environment switcher: the choice is kept per workspace in
  // localStorage, so that it outlives a reload and the tab.

  function envKey() {
    return "nahook-dashboard-environment:" + state.ws;
  }

  async function loadEnvironments() {
    state.envs = await all("/environments");
    const kept = localStorage.getItem(envKey());
    state.env = state.envs.find((e) => e.id === kept) || state.envs.find((e) => e.isDefault) || state.envs[0] || null;
    const select = $("environment");
    select.replaceChildren(...state.envs.map((e) =>
      el("option", { value: e.id, text: e.name + (e.isDefault ? " (default)" : "") })));
    if (state.env) select.value = state.env.id;
  }

  async function switchEnvironment() {
    state.env = state.envs.find((e) => e.id === $("environment").value) || state.env;
    localStorage.setItem(envKey(), state.env.id);
    say("Showing the " + state.env.name + " environment.");
    notice("");
    closeAll();
    await render();
  }

  // Views: one per link of the sidebar, named by the address's fragment.

  async function route(focus) {
    const name = location.hash.slice(1);
    state.view = VIEWS.includes(name) ? name : "portal";
    for (const v of VIEWS) show($("view-" + v), v === state.view);
    for (const a of document.querySelectorAll("#sidebar a")) {
      if (a.dataset.view === state.view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    closeAll();
    await render();
    if (focus) $("view-" + state.view).querySelector("h2").focus();
  }

  // closeAll closes every editor, which was for another view or
  // environment, and forgets a new key's plaintext.
  function closeAll() {
    for (const name of Object.keys(editors)) {
      show(editors[name].section, false);
      editors[name].editing = null;
    }
    hideIssuedKey();
  }

  async function render() {
    try {
      await renderers[state.view]();
    } catch (err) {
      if (err.status !== 401) notice(err.message, "error");
    }
  }

  const renderers = {
    portal: renderApplications,
    "event-types": renderEventTypes,
    endpoints: renderEndpoints,
    "api-keys": renderKeys,
    environments: renderEnvironments,
  };

  // Developer Portal: applications.

  const openApplication = editor("app", (app) => {
    $("app-editor-heading").textContent = app ? "Edit " + app.name : "Create Application";
    $("app-save").textContent = app ? "Save changes" : "Create Application";
    $("app-name").value = app ? app.name : "";
    $("app-external-id").value = app && app.externalId ? app.externalId : "";
    $("metadata-rows").replaceChildren();
    for (const [k, v] of Object.entries(app ? app.metadata : {})) addMetadataRow(k, v);
    metadataLimit();
  });

  function addMetadataRow(key, value) {
    const rows = $("metadata-rows");
    const n = rows.children.length + 1;
    const id = "metadata-" + n + "-" + Math.random().toString(36).slice(2, 8);
    const row = el("div", { class: "metadata-row" },
      el("div", null, el("label", { for: id + "-key", text: "Key " + n }),
        el("input", { id: id + "-key", name: "metadata", type: "text", maxlength: "64", spellcheck: "false", class: "metadata-key" })),
      el("div", null, el("label", { for: id + "-value", text: "Value " + n }),
        el("input", { id: id + "-value", type: "text", maxlength: "512", class: "metadata-value" })));
    row.querySelector(".metadata-key").value = key || "";
    row.querySelector(".metadata-value").value = value || "";
    const remove = button("Remove", { "aria-label": "Remove pair " + n }, () => {
      row.remove();
      metadataLimit();
      $("metadata-add").focus();
    });
    row.append(remove);
    rows.append(row);
    metadataLimit();
    return row;
  }

  // metadataLimit keeps "Add a pair" to the API's limit of five.
  function metadataLimit() {
    const full = $("metadata-rows").children.length >= 5;
    $("metadata-add").disabled = full;
    $("metadata-add").textContent = full ? "At most 5 pairs" : "Add a pair";
  }

  async function saveApplication() {
    const ed = editors.app;
    const metadata = {};
    for (const row of $("metadata-rows").children) {
      const k = row.querySelector(".metadata-key").value.trim();
      const v = row.querySelector(".metadata-value").value;
      if (k || v) metadata[k] = v;
    }
    const externalId = $("app-external-id").value.trim();
    const body = { name: $("app-name").value.trim(), metadata };
    let app;
    if (ed.editing) {
      body.externalId = externalId || null;
      app = await api("PATCH", "/applications/" + ed.editing.id, body);
    } else {
      if (externalId) body.externalId = externalId;
      app = await api("POST", "/applications", body);
    }
    const edited = ed.editing;
    closeEditor("app");
    state.apps = await all("/applications");
    await renderApplications();
    notice(edited ? "Application " + app.name + " saved." : "Application " + app.name + " created.", "ok");
    const card = document.querySelector('#apps li[data-id="' + CSS.escape(app.id) + '"]');
    (card ? card.querySelector('[data-action="edit"]') : $("app-create")).focus();
  }

  async function renderApplications() {
    const list = $("apps");
    list.replaceChildren(...state.apps.map(applicationCard));
    show($("apps-empty"), state.apps.length === 0);
  }

  function applicationCard(app) {
    const md = Object.entries(app.metadata || {});
    const li = el("li", { class: "card", "data-id": app.id },
      el("div", { class: "bar" }, el("h3", { text: app.name })),
      el("p", { class: "muted app-external-id", text: app.externalId ? "External ID: " + app.externalId : "No external ID" }),
      md.length ? el("p", { class: "app-metadata", text: "Metadata: " + md.map(([k, v]) => k + " = " + v).join(", ") }) : null);
    const label = (what) => what + " (" + app.name + ")";
    const endpoints = el("div", { class: "panel app-endpoints", hidden: true });
    const link = el("p", { class: "portal-link", hidden: true });
    const actions = el("div", { class: "actions" },
      button("Edit", { "data-action": "edit", "aria-label": label("Edit") }, (e) => openApplication(app, e.currentTarget)),
      button("Endpoints", { "data-action": "endpoints", "aria-expanded": "false", "aria-label": label("Endpoints") }, async (e) => {
        const b = e.currentTarget;
        if (!endpoints.hidden) return expand(endpoints, b, false);
        try {
          await showApplicationEndpoints(app, endpoints);
          expand(endpoints, b, true);
        } catch (err) {
          if (err.status !== 401) notice(err.message, "error");
        }
      }),
      button("Open portal", { "data-action": "portal", "aria-label": label("Open portal") }, () => openPortal(app, link)),
      button("Delete", { class: "danger", "data-action": "delete", "aria-label": label("Delete") }, (e) => askDeleteApplication(app, li, e.currentTarget)));
    li.append(actions, link, endpoints);
    return li;
  }

  async function showApplicationEndpoints(app, box) {
    const eps = await all("/applications/" + app.id + "/endpoints?environmentId=" + encodeURIComponent(state.env.id));
    const heading = el("h4", { text: counted(eps.length, "endpoint", "endpoints") + " in " + state.env.name });
    const items = eps.map((ep) => el("li", null, ep.url + " · " + (ep.disabled ? "disabled" : "enabled") + " · " + describeTypes(ep.eventTypes)));
    box.replaceChildren(heading, eps.length ? el("ul", null, ...items) : el("p", { class: "muted", text: "None yet: add one in Endpoints, or let the customer add its own through the portal." }));
  }

  // openPortal makes a portal session for the application in the selected
  // environment and opens its page in a new tab; its link stays on the
  // card, should the browser have blocked the tab.
  async function openPortal(app, link) {
    notice("");
    try {
      const s = await api("POST", "/portal-sessions", { applicationId: app.id, environmentId: state.env.id });
      if (!s.url) {
        link.replaceChildren("This server has no portal page configured (Config.PortalURL): the session's token is " + s.token);
      } else {
        link.replaceChildren(
          el("a", { href: s.url, target: "_blank", rel: "noopener noreferrer", text: "Open the portal of " + app.name + " in " + state.env.name }),
          " (the link works until " + when(s.expiresAt) + ")");
        window.open(s.url, "_blank", "noopener,noreferrer");
      }
      show(link, true);
      say("Portal session created for " + app.name + ".");
    } catch (err) {
      if (err.status !== 401) notice(err.message, "error");
    }
  }

  async function askDeleteApplication(app, li, opener) {
    notice("");
    let eps;
    try {
      eps = await all("/applications/" + app.id + "/endpoints");
    } catch (err) {
      if (err.status !== 401) notice(err.message, "error");
      return;
    }
    const goes = eps.length === 0 ? "It has no endpoints." :
      "Its " + counted(eps.length, "endpoint goes", "endpoints go") + " with it: " + eps.map((ep) => ep.url + " (" + envName(ep.environmentId) + ")").join(", ") + ".";
    confirmPanel(li, ["Delete " + app.name + "? " + goes, "Its portal sessions end at once."], "Delete application", async () => {
      await api("DELETE", "/applications/" + app.id);
      state.apps = state.apps.filter((a) => a.id !== app.id);
      await renderApplications();
      notice("Application " + app.name + " deleted" + (eps.length ? " with its endpoints." : "."), "ok");
      $("app-create").focus();
    }, opener);
  }

  // Event Types: the catalogue, and each one's visibility in the selected
  // environment.

  const openEventType = editor("type", (et) => {
    $("type-editor-heading").textContent = et ? "Edit " + et.name : "Create event type";
    $("type-save").textContent = et ? "Save changes" : "Create event type";
    $("type-name").value = et ? et.name : "";
    $("type-description").value = et ? et.description : "";
  });

  async function saveEventType() {
    const ed = editors.type;
    const body = { name: $("type-name").value.trim(), description: $("type-description").value.trim() };
    const et = ed.editing ? await api("PATCH", "/event-types/" + ed.editing.id, body) : await api("POST", "/event-types", body);
    const edited = ed.editing;
    closeEditor("type");
    state.types = await all("/event-types");
    await renderEventTypes();
    notice(edited ? "Event type " + et.name + " saved." : "Event type " + et.name + " created: publish it where it is sent.", "ok");
    const row = document.querySelector('#types li[data-id="' + CSS.escape(et.id) + '"]');
    (row ? row.querySelector(edited ? '[data-action="edit"]' : "input") : $("type-create")).focus();
  }

  async function renderEventTypes() {
    $("types-env").textContent = "here, in " + state.env.name;
    const [types, vis] = await Promise.all([all("/event-types"), api("GET", "/environments/" + state.env.id + "/event-types")]);
    state.types = types;
    const published = new Set(vis.filter((v) => v.published).map((v) => v.eventTypeId));
    $("types").replaceChildren(...types.map((et) => eventTypeRow(et, published.has(et.id))));
    show($("types-empty"), types.length === 0);
  }

  function eventTypeRow(et, published) {
    const env = state.env;
    const id = "published-" + et.id;
    const toggle = el("input", { id, type: "checkbox", role: "switch", "data-action": "publish" });
    toggle.checked = published;
    const status = el("p", { class: "publish-status" + (published ? " on" : " muted"), text: published ? "Published" : "Not published" });
    const li = el("li", { "data-id": et.id, "data-name": et.name },
      el("div", { class: "row" },
        el("div", { class: "grow" }, el("h3", { text: et.name }), et.description ? el("p", { class: "muted", text: et.description }) : null, status),
        el("label", { class: "switch", for: id }, toggle, "Published in " + env.name),
        el("div", { class: "actions" },
          button("Edit", { "data-action": "edit", "aria-label": "Edit " + et.name }, (e) => openEventType(et, e.currentTarget)),
          button("Delete", { class: "danger", "data-action": "delete", "aria-label": "Delete " + et.name }, (e) =>
            confirmPanel(li, "Delete " + et.name + " from the workspace? It is unpublished in every environment, and endpoints that subscribe to it no longer receive it.", "Delete event type", async () => {
              await api("DELETE", "/event-types/" + et.id);
              await renderEventTypes();
              notice("Event type " + et.name + " deleted.", "ok");
              $("type-create").focus();
            }, e.currentTarget)))));
    toggle.addEventListener("change", async () => {
      const want = toggle.checked;
      toggle.disabled = true;
      try {
        const v = await api("PUT", "/environments/" + env.id + "/event-types/" + et.id + "/visibility", { published: want });
        toggle.checked = v.published;
        status.textContent = v.published ? "Published" : "Not published";
        status.className = "publish-status" + (v.published ? " on" : " muted");
        say(et.name + (v.published ? " is published in " : " is no longer published in ") + env.name + ".");
      } catch (err) {
        toggle.checked = !want;
        if (err.status !== 401) notice(err.message, "error");
      } finally {
        toggle.disabled = false;
        toggle.focus();
      }
    });
    return li;
  }

  // API keys of the selected environment.

  async function renderKeys() {
    $("keys-env").textContent = state.env.name;
    const keys = await all("/api-keys?environmentId=" + encodeURIComponent(state.env.id));
    $("keys").replaceChildren(...keys.map(keyRow));
    show($("keys-empty"), keys.length === 0);
  }

  function keyRow(k) {
    const name = k.name || "Unnamed key";
    const li = el("li", { "data-id": k.id },
      el("div", { class: "row" },
        el("div", { class: "grow" }, el("h3", { text: name }),
          el("p", { class: "muted" }, el("code", { class: "key-prefix", text: k.prefix + "…" }), " created " + when(k.createdAt))),
        k.revokedAt ? el("span", { class: "status off", text: "Revoked " + when(k.revokedAt) }) :
          el("div", { class: "actions" }, button("Revoke", { class: "danger", "data-action": "revoke", "aria-label": "Revoke " + name }, (e) =>
            confirmPanel(li, "Revoke " + name + " (" + k.prefix + "…)? Requests sent with it are refused from now on.", "Revoke key", async () => {
              await api("DELETE", "/api-keys/" + k.id);
              await renderKeys();
              notice("Key " + name + " revoked.", "ok");
              $("key-name").focus();
            }, e.currentTarget)))));
    return li;
  }

  async function createKey() {
    const k = await api("POST", "/api-keys", { environmentId: state.env.id, name: $("key-name").value.trim() });
    $("key-form").reset();
    await renderKeys();
    $("key-plaintext").textContent = k.key;
    $("key-copied").textContent = "";
    show($("key-issued"), true);
    $("key-issued").focus();
  }

  // hideIssuedKey forgets a key's plaintext: it is shown once.
  function hideIssuedKey() {
    $("key-plaintext").textContent = "";
    $("key-copied").textContent = "";
    show($("key-issued"), false);
  }

  async function copyKey() {
    const text = $("key-plaintext").textContent;
    try {
      await navigator.clipboard.writeText(text);
      $("key-copied").textContent = "Copied.";
    } catch (err) {
      // No clipboard (an insecure origin, a denied permission): select
      // the key for the person to copy.
      const range = document.createRange();
      range.selectNodeContents($("key-plaintext"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      $("key-copied").textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  }

  // Settings > Environments.

  const openEnvironment = editor("env", () => {});

  async function createEnvironment() {
    const env = await api("POST", "/environments", { name: $("env-name").value.trim(), slug: $("env-slug").value.trim() });
    closeEditor("env");
    await loadEnvironments();
    await renderEnvironments();
    notice("Environment " + env.name + " created. It publishes no event type yet: choose it in the switcher, then go to Event Types.", "ok");
    $("env-create").focus();
  }

  async function renderEnvironments() {
    $("envs").replaceChildren(...state.envs.map(environmentCard));
  }

  function environmentCard(env) {
    const li = el("li", { class: "card", "data-id": env.id, "data-slug": env.slug },
      el("div", { class: "bar" },
        el("h3", null, env.name, env.isDefault ? el("span", { class: "badge", text: "Default" }) : null)),
      el("p", { class: "muted" }, "Slug ", el("code", { text: env.slug })));
    const why = el("p", { class: "error default-refusal", role: "alert", hidden: true });
    const rename = el("div", { class: "panel", hidden: true });
    const renameButton = button("Rename", { "data-action": "rename", "aria-expanded": "false", "aria-label": "Rename " + env.name }, () => {
      if (!rename.hidden) return expand(rename, renameButton, false);
      rename.replaceChildren(renameForm(env, rename, renameButton));
      expand(rename, renameButton, true);
      rename.querySelector("input").focus();
    });
    const del = button("Delete", { class: "danger", "data-action": "delete", "aria-label": "Delete " + env.name }, () => askDeleteEnvironment(env, li, del, why));
    li.append(el("div", { class: "actions" }, renameButton, del), why, rename);
    return li;
  }

  function renameForm(env, box, opener) {
    const id = "rename-" + env.id;
    const field = (name, label, value) => el("div", { class: "field" },
      el("label", { for: id + "-" + name, text: label }),
      el("input", { id: id + "-" + name, name, type: "text", value, spellcheck: "false", "aria-describedby": id + "-" + name + "-error" }),
      el("p", { id: id + "-" + name + "-error", class: "error", "data-field": name, hidden: true }));
    const form = el("form", { class: "inline-form", novalidate: true, "aria-label": "Rename " + env.name },
      field("name", "Name", env.name), field("slug", "Slug", env.slug),
      el("p", { class: "error", "data-field": "", hidden: true }),
      el("div", { class: "actions" }, el("button", { type: "submit", text: "Save" }),
        button("Cancel", null, () => {
          expand(box, opener, false);
          opener.focus();
        })));
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        expand(box, opener, false);
        opener.focus();
      }
    });
    submitting(form, async () => {
      const saved = await api("PATCH", "/environments/" + env.id, { name: form.elements.name.value.trim(), slug: form.elements.slug.value.trim() });
      await loadEnvironments();
      await renderEnvironments();
      notice("Environment " + saved.name + " saved.", "ok");
      document.querySelector('#envs li[data-id="' + CSS.escape(env.id) + '"] [data-action="rename"]')?.focus();
    });
    return form;
  }

  // askDeleteEnvironment says what deleting env takes with it, its keys
  // and endpoints, and asks; the default environment cannot be deleted,
  // and the page says why rather than asking.
  async function askDeleteEnvironment(env, li, opener, why) {
    notice("");
    if (env.isDefault) {
      why.textContent = env.name + " is the default environment and cannot be deleted: keys, endpoints and portal sessions made without naming an environment go to it.";
      show(why, true);
      return;
    }
    let keys, eps;
    try {
      [keys, eps] = await Promise.all([
        all("/api-keys?environmentId=" + encodeURIComponent(env.id)),
        all("/endpoints?environmentId=" + encodeURIComponent(env.id)),
      ]);
    } catch (err) {
      if (err.status !== 401) notice(err.message, "error");
      return;
    }
    keys = keys.filter((k) => !k.revokedAt);
    const list = (items, one, many, text) => items.length === 0 ? "no " + many : counted(items.length, one, many) + " (" + items.map(text).join(", ") + ")";
    const goes = "Its " + list(keys, "API key", "API keys", (k) => (k.name || "unnamed") + " " + k.prefix + "…") +
      " and " + list(eps, "endpoint", "endpoints", (ep) => ep.url) + " are deleted with it, with its event types' visibility and its portal sessions.";
    confirmPanel(li, ["Delete " + env.name + "?", goes], "Delete environment", async () => {
      await api("DELETE", "/environments/" + env.id);
      const wasSelected = state.env.id === env.id;
      await loadEnvironments();
      await renderEnvironments();
      notice("Environment " + env.name + " deleted" + (wasSelected ? "; showing " + state.env.name + "." : "."), "ok");
      $("env-create").focus();
    }, opener);
  }

  // Endpoints of the selected environment.

  function describeTypes(types) {
    if (!types || types.length === 0) return "subscribed to no event types";
    if (types.includes("*")) return "receives every event type";
    return "receives " + types.join(", ");
  }

  function appOptions(select, first, value) {
    select.replaceChildren(el("option", { value: "", text: first }),
      ...state.apps.map((a) => el("option", { value: a.id, text: a.name + (a.externalId ? " (" + a.externalId + ")" : "") })));
    select.value = state.apps.some((a) => a.id === value) ? value : "";
  }

  // explainOptions lists what an event can be sent for: no application
  // (it reaches the endpoints that have none), every application (a
  // broadcast), or one.
  function explainOptions() {
    const select = $("explain-app");
    const chosen = select.value;
    appOptions(select, "no application: the workspace's own endpoints", chosen);
    select.insertBefore(el("option", { value: BROADCAST, text: "every application: a broadcast" }), select.options[1]);
    if (chosen === BROADCAST) select.value = BROADCAST;
  }

  const BROADCAST = "broadcast";

  async function renderEndpoints() {
    const filter = $("endpoint-filter");
    const chosen = filter.value;
    appOptions(filter, "every application, and none", chosen);
    explainOptions();
    $("explain-types").replaceChildren(...state.types.map((et) => el("option", { value: et.name })));
    let path = "/endpoints?environmentId=" + encodeURIComponent(state.env.id);
    if (filter.value) path += "&applicationId=" + encodeURIComponent(filter.value);
    const eps = await all(path);
    const cards = eps.map(endpointCard);
    $("endpoints").replaceChildren(...cards);
    $("endpoints-empty").textContent = "No endpoints in " + state.env.name + (filter.value ? " for " + appName(filter.value) : "") + " yet.";
    show($("endpoints-empty"), eps.length === 0);
    $("explain-result").replaceChildren();
    show($("explain-result"), false);
    eps.forEach((ep, i) => showHealth(ep, cards[i]));
  }

  const openEndpoint = editor("endpoint", (ep) => {
    $("endpoint-editor-heading").textContent = ep ? "Edit endpoint" : "Add endpoint in " + state.env.name;
    $("endpoint-save").textContent = ep ? "Save changes" : "Add endpoint";
    $("endpoint-url").value = ep ? ep.url : "";
    $("endpoint-description").value = ep ? ep.description : "";
    $("endpoint-disabled").checked = ep ? ep.disabled : false;
    // An endpoint's application is set when it is made.
    show($("endpoint-app-field"), !ep);
    appOptions($("endpoint-app"), "None: the workspace's own endpoint", ep ? "" : $("endpoint-filter").value);
    // Every type of the catalogue: one not published here is accepted,
    // and received once it is published.
    $("endpoint-types").replaceChildren(...typeChoices(state.types, new Set(ep ? ep.eventTypes : [])));
  });

  async function saveEndpoint() {
    const ed = editors.endpoint;
    const body = {
      url: $("endpoint-url").value.trim(),
      description: $("endpoint-description").value.trim(),
      eventTypes: Array.from(document.querySelectorAll("#endpoint-types input:checked"), (b) => b.value),
      disabled: $("endpoint-disabled").checked,
    };
    let ep;
    if (ed.editing) {
      ep = await api("PATCH", "/endpoints/" + ed.editing.id, body);
    } else {
      body.environmentId = state.env.id;
      if ($("endpoint-app").value) body.applicationId = $("endpoint-app").value;
      ep = await api("POST", "/endpoints", body);
    }
    const edited = ed.editing;
    closeEditor("endpoint");
    await renderEndpoints();
    notice(edited ? "Endpoint saved." : "Endpoint " + ep.url + " added.", "ok");
    focusIn(ep.id, '[data-action="edit"]') || $("endpoint-create").focus();
  }

  function endpointCard(ep) {
    const label = (what) => what + " (" + ep.url + ")";
    const li = el("li", { class: "card endpoint", "data-id": ep.id },
      el("div", { class: "bar" }, el("h3", { class: "endpoint-url", text: ep.url }),
        el("span", { class: "status " + (ep.disabled ? "off" : "on"), text: ep.disabled ? "Disabled" : "Enabled" })),
      ep.description ? el("p", { text: ep.description }) : null,
      el("p", { class: "muted endpoint-owner", text: ep.applicationId ? "Application: " + appName(ep.applicationId) : "No application: the workspace's own" }),
      el("p", { class: "muted endpoint-types", text: describeTypes(ep.eventTypes).replace(/^./, (c) => c.toUpperCase()) + "." }),
      el("p", { class: "muted endpoint-health" }, el("span", { class: "health-hour" }), el("br"), el("span", { class: "health-day" })));
    const secret = el("div", { class: "panel secret", hidden: true });
    const deliveries = el("div", { class: "panel deliveries", hidden: true });
    const recovery = el("div", { class: "panel recovery", hidden: true });
    const panelButton = (text, action, box, fill) => {
      const b = button(text, { "data-action": action, "aria-expanded": "false", "aria-label": label(text) }, async () => {
        notice("");
        if (!box.hidden) return expand(box, b, false);
        try {
          await fill(box);
          expand(box, b, true);
          // A panel with a form starts at its first field.
          box.querySelector("form input")?.focus();
        } catch (err) {
          if (err.status !== 401) notice(err.message, "error");
        }
      });
      return b;
    };
    const toggle = button(ep.disabled ? "Enable" : "Disable", { "data-action": "toggle", "aria-label": label(ep.disabled ? "Enable" : "Disable") }, async () => {
      notice("");
      try {
        await api("PATCH", "/endpoints/" + ep.id, { disabled: !ep.disabled });
        await renderEndpoints();
        notice(ep.disabled ? "Endpoint enabled." : "Endpoint disabled.", "ok");
        focusIn(ep.id, '[data-action="toggle"]');
      } catch (err) {
        if (err.status !== 401) notice(err.message, "error");
      }
    });
    const del = button("Delete", { class: "danger", "data-action": "delete", "aria-label": label("Delete") }, () =>
      confirmPanel(li, "Delete " + ep.url + "? It stops receiving webhooks at once, and its deliveries are forgotten.", "Delete endpoint", async () => {
        await api("DELETE", "/endpoints/" + ep.id);
        await renderEndpoints();
        notice("Endpoint " + ep.url + " deleted.", "ok");
        $("endpoint-create").focus();
      }, del));
    li.append(el("div", { class: "actions" },
      button("Edit", { "data-action": "edit", "aria-label": label("Edit") }, (e) => openEndpoint(ep, e.currentTarget)),
      toggle,
      panelButton("Deliveries", "deliveries", deliveries, (box) => showDeliveries(ep, box)),
      panelButton("Recovery", "recovery", recovery, (box) => showRecovery(ep, box, deliveries)),
      panelButton("Signing secret", "secret", secret, (box) => showSecret(ep, box)),
      del), secret, deliveries, recovery);
    return li;
  }

  async function showSecret(ep, box) {
    const s = await api("GET", "/endpoints/" + ep.id + "/secret");
    const panel = $("secret-template").content.firstElementChild.cloneNode(true);
    panel.querySelector(".secret-key").textContent = s.key;
    const rotate = panel.querySelector('[data-action="rotate"]');
    rotate.setAttribute("aria-label", "Rotate the secret of " + ep.url);
    rotate.addEventListener("click", () =>
      confirmPanel(panel, "Rotate the signing secret? For a grace period webhooks are signed with both the new secret and this one, then with the new one only: the receiver needs the new one before it ends.", "Rotate secret", async () => {
        const fresh = await api("POST", "/endpoints/" + ep.id + "/secret/rotate");
        panel.querySelector(".secret-key").textContent = fresh.key;
        panel.querySelector(".confirm")?.remove();
        notice("Signing secret rotated.", "ok");
        rotate.focus();
      }, rotate));
    box.replaceChildren(panel);
  }

  // showDeliveries draws the endpoint's recent deliveries, each with a
  // button that shows its attempts and one that sends it again.
  async function showDeliveries(ep, box, open) {
    const page = await api("GET", "/endpoints/" + ep.id + "/deliveries?limit=20");
    if (page.data.length === 0) {
      box.replaceChildren(el("p", { class: "muted", text: "No deliveries yet." }));
      return;
    }
    const table = el("table");
    table.createCaption().textContent = "The " + counted(page.data.length, "most recent delivery", "most recent deliveries");
    headings(table, ["Time", "Event type", "Status", "Attempts", "Last answer", ""]);
    const body = table.createTBody();
    for (const d of page.data) {
      const row = deliveryRow(body, d);
      const what = (d.eventType || "direct") + " delivery of " + when(d.createdAt);
      const details = button("Attempts", { "data-action": "details", "data-delivery": d.id, "aria-expanded": "false", "aria-label": "Attempts of the " + what }, async () => {
        if (details.getAttribute("aria-expanded") === "true") {
          box.querySelector(".delivery-detail")?.remove();
          details.setAttribute("aria-expanded", "false");
          return;
        }
        try {
          await showDelivery(ep, box, d.id);
        } catch (err) {
          if (err.status !== 401) notice(err.message, "error");
        }
      });
      const resend = button("Resend", { "data-action": "resend", "aria-label": "Resend the " + what }, async () => {
        notice("");
        try {
          await api("POST", "/deliveries/" + encodeURIComponent(d.id) + "/resend");
          await showDeliveries(ep, box, box.querySelector(".delivery-detail")?.dataset.delivery);
          notice("Delivery queued to be sent again.", "ok");
          box.querySelector('[data-action="resend"][data-delivery="' + CSS.escape(d.id) + '"]')?.focus();
        } catch (err) {
          if (err.status !== 401) notice(err.message, "error");
        }
      });
      resend.dataset.delivery = d.id;
      row.insertCell().append(details, " ", resend);
    }
    box.replaceChildren(table);
    if (open) await showDelivery(ep, box, open, true);
  }

  // showDelivery draws a delivery's attempts under the deliveries, the
  // answers received as text (the receiver is not to be trusted with the
  // page), and focuses its heading unless quiet.
  async function showDelivery(ep, box, id, quiet) {
    const d = await api("GET", "/deliveries/" + encodeURIComponent(id));
    const heading = el("h4", { tabindex: "-1", text: "Attempts of the delivery of " + (d.eventType || "a direct message") + ", " + when(d.createdAt) });
    const section = el("section", { class: "delivery-detail", "data-delivery": d.id }, heading, el("p", { class: "muted", text: deliverySummary(d) }));
    if (d.attempts.length === 0) {
      section.append(el("p", { class: "muted", text: "Not attempted yet." }));
    } else {
      const table = el("table", { class: "attempts" });
      table.createCaption().textContent = "Every attempt, oldest first";
      headings(table, ["#", "Time", "Answer", "Duration", "Body of the answer"]);
      attemptRows(table.createTBody(), d.attempts);
      section.append(table);
    }
    const old = box.querySelector(".delivery-detail");
    if (old) old.replaceWith(section);
    else box.append(section);
    for (const b of box.querySelectorAll('[data-action="details"]')) b.setAttribute("aria-expanded", String(b.dataset.delivery === d.id));
    if (!quiet) heading.focus();
  }

  async function showRecovery(ep, box, deliveries) {
    box.replaceChildren(recoveryForms(ep, async () => {
      if (!deliveries.hidden) await showDeliveries(ep, deliveries);
    }));
  }

  // Explain: which endpoints of the environment an event would reach,
  // and why not the others.

  const reasons = {
    other_environment: "it is in another environment",
    unknown_event_type: "the workspace has no event type of that name",
    not_published: "the event type is not published in this environment",
    disabled: "it is disabled",
    // other_application is said by explain(): its reason depends on
    // what the event is sent for.
    not_subscribed: "it does not subscribe to this event type",
    other_endpoint: "the event was sent straight to another endpoint",
  };

  async function explain() {
    const eventType = $("explain-type").value.trim();
    if (!eventType) throw new APIError(400, { error: { field: "eventType", message: "Enter the name of an event type, such as order.created." } });
    let q = "?eventType=" + encodeURIComponent(eventType) + "&environmentId=" + encodeURIComponent(state.env.id);
    const target = $("explain-app").value;
    if (target === BROADCAST) q += "&broadcast=true";
    else if (target) q += "&applicationId=" + encodeURIComponent(target);
    const x = await api("GET", "/explain" + q);
    const because = (r, v) => {
      if (r !== "other_application") return reasons[r] || r;
      if (!target) return "it belongs to " + appName(v.applicationId) + ", and an event sent for no application reaches only endpoints that have none";
      return v.applicationId ? "it belongs to " + appName(v.applicationId) + ", not " + appName(target) : "it belongs to no application, and the event is sent for " + appName(target);
    };
    const here = x.endpoints.filter((v) => v.environmentId === state.env.id);
    const receiving = here.filter((v) => v.receives).length;
    const out = $("explain-result");
    let headline = counted(receiving, "endpoint", "endpoints") + " of " + here.length + " in " + state.env.name + " would receive " + x.eventType;
    if (target === BROADCAST) headline += " sent to every application";
    else if (target) headline += " sent for " + appName(target);
    else headline += " sent for no application";
    const parts = [el("h4", { text: headline + "." })];
    if (!x.published) parts.push(el("p", { class: "kept", text: x.eventType + " is not published in " + state.env.name + ": publish it in Event Types for any endpoint here to receive it." }));
    if (here.length) {
      const table = el("table", { class: "explain" });
      table.createCaption().textContent = "Every endpoint of " + state.env.name;
      headings(table, ["Endpoint", "Receives it?", "Why not"]);
      const body = table.createTBody();
      for (const v of here) {
        const row = body.insertRow();
        row.dataset.endpoint = v.id;
        row.insertCell().textContent = v.url + (v.applicationId ? " (" + appName(v.applicationId) + ")" : "");
        const yes = row.insertCell();
        yes.textContent = v.receives ? "Yes" : "No";
        yes.className = v.receives ? "receives" : "kept";
        const why = row.insertCell();
        if (v.receives) why.textContent = "—";
        else why.append(el("ul", { class: "reasons" }, ...v.reasons.map((r) => el("li", { "data-reason": r, text: because(r, v) }))));
      }
      parts.push(table);
    }
    out.replaceChildren(...parts);
    show(out, true);
    out.focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    takeSignIn();
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("environment").addEventListener("change", switchEnvironment);
    window.addEventListener("hashchange", () => {
      // A sign-in link opened in this tab signs in again; a view's link
      // shows the view.
      if (new URLSearchParams(location.hash.slice(1)).get("token")) {
        takeSignIn();
        start(true);
      } else if (state.token && VIEWS.includes(location.hash.slice(1))) {
        route(true);
      }
    });

    $("app-create").addEventListener("click", (e) => openApplication(null, e.currentTarget));
    $("metadata-add").addEventListener("click", () => addMetadataRow().querySelector("input").focus());
    submitting($("app-form"), saveApplication);

    $("type-create").addEventListener("click", (e) => openEventType(null, e.currentTarget));
    submitting($("type-form"), saveEventType);

    $("endpoint-create").addEventListener("click", (e) => openEndpoint(null, e.currentTarget));
    $("endpoint-filter").addEventListener("change", render);
    submitting($("endpoint-form"), saveEndpoint);
    submitting($("explain-form"), explain);

    submitting($("key-form"), createKey);
    $("key-copy").addEventListener("click", copyKey);
    $("key-done").addEventListener("click", () => {
      hideIssuedKey();
      $("key-name").focus();
    });

    $("env-create").addEventListener("click", (e) => openEnvironment(null, e.currentTarget));
    submitting($("env-form"), createEnvironment);

    start(false);
  });
})();
