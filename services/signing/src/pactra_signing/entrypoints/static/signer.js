// The signing page: consent, fields, a typed or drawn signature, Sign and Decline.
(function () {
  "use strict";
  const main = document.getElementById("main");
  const token = main.dataset.token;
  const statusBox = document.getElementById("status");
  const errorBox = document.getElementById("errors");
  const signForm = document.getElementById("sign-form");
  const declineForm = document.getElementById("decline-form");
  if (!signForm) { return; }

  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  let drawing = false;
  let drawn = false;
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#1a1a2e";

  function point(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
  }
  pad.addEventListener("pointerdown", function (event) {
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  pad.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    const [x, y] = point(event);
    ctx.lineTo(x, y);
    ctx.stroke();
    drawn = true;
  });
  pad.addEventListener("pointerup", function () { drawing = false; });
  document.getElementById("clear-pad").addEventListener("click", function () {
    ctx.clearRect(0, 0, pad.width, pad.height);
    drawn = false;
  });

  document.querySelectorAll("input[name=sig-kind]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      const typed = document.getElementById("sig-typed").checked;
      document.getElementById("typed-panel").hidden = !typed;
      document.getElementById("drawn-panel").hidden = typed;
    });
  });

  function show(message, isError) {
    statusBox.textContent = isError ? "" : message;
    errorBox.textContent = isError ? message : "";
  }

  // --- the signer's fields: on the pages, in the form, and walked through in order ---------
  // Each field has a number (reading order) and a name as the signer sees it ("Date on
  // page 1"); internal ids (fld_...) never reach the screen.
  const fields = Array.from(document.querySelectorAll("[data-field], [data-sig-field]")).map(function (el) {
    const id = el.dataset.field || el.dataset.sigField;
    return {
      id: id, el: el, number: Number(el.dataset.number), name: el.dataset.name,
      signature: Boolean(el.dataset.sigField), required: el.hasAttribute("data-required"),
      marker: document.getElementById("marker-" + id),
    };
  }).sort(function (a, b) { return a.number - b.number; });
  const byId = {};
  fields.forEach(function (f) { byId[f.id] = f; });

  function signatureInput() {
    return document.getElementById("sig-drawn").checked ? pad : document.getElementById("typed-name");
  }
  function inputOf(field) { return field.signature ? signatureInput() : field.el; }
  function isDone(field) {
    if (field.signature) {
      return document.getElementById("sig-drawn").checked ? drawn
        : document.getElementById("typed-name").value.trim() !== "";
    }
    return field.el.type === "checkbox" ? field.el.checked : field.el.value.trim() !== "";
  }

  // Boxes in % of the page image, so they stay on their spot at any width.
  document.querySelectorAll("[data-box]").forEach(function (marker) {
    const box = marker.dataset.box.split(" ");
    marker.style.left = box[0] + "%";
    marker.style.top = box[1] + "%";
    marker.style.width = box[2] + "%";
    marker.style.height = box[3] + "%";
  });

  function goToInput(field) {
    const input = inputOf(field);
    input.scrollIntoView({block: "center"});
    input.focus({preventScroll: true});
  }
  fields.forEach(function (field) {
    if (field.marker) {
      field.marker.addEventListener("click", function (event) {
        event.preventDefault();
        goToInput(field);
      });
    }
  });

  // Today in the signer's own time zone (not UTC), sent as YYYY-MM-DD; the date input shows
  // it in the signer's locale, and the signer may change it.
  const now = new Date();
  const today = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" +
    String(now.getDate()).padStart(2, "0");
  document.querySelectorAll("input[data-type=date]").forEach(function (input) {
    if (!input.value) { input.value = today; }
  });

  const progress = document.getElementById("walk-progress");
  const nextButton = document.getElementById("next-field");
  const required = fields.filter(function (f) { return f.required; });
  let current = -1;

  function refresh() {
    fields.forEach(function (f) {
      if (f.marker) { f.marker.classList.toggle("done", isDone(f)); }
    });
    if (progress) {
      const done = required.filter(isDone).length;
      progress.textContent = done + " of " + required.length + " required field" +
        (required.length === 1 ? "" : "s") + " filled in.";
    }
  }
  signForm.addEventListener("input", refresh);
  signForm.addEventListener("change", refresh);
  pad.addEventListener("pointerup", refresh);
  document.getElementById("clear-pad").addEventListener("click", refresh);

  if (nextButton) {
    nextButton.addEventListener("click", function () {
      // The next required field after the one shown last that still needs filling in; once
      // all are filled in, the Sign button.
      const pending = required.filter(function (f) { return !isDone(f); });
      const field = pending.find(function (f) { return f.number > current; }) || pending[0];
      fields.forEach(function (f) { if (f.marker) { f.marker.classList.remove("active"); } });
      if (!field) {
        current = -1;
        document.getElementById("sign-button").focus();
        show("All required fields are filled in. Check them, then Sign.", false);
        return;
      }
      current = field.number;
      show("Field " + field.number + ": " + field.name + ".", false);
      if (field.marker) {
        // Show where it sits on the page; selecting the marker goes on to fill it in.
        field.marker.classList.add("active");
        field.marker.scrollIntoView({block: "center"});
        field.marker.focus({preventScroll: true});
      } else {
        goToInput(field);
      }
    });
  }
  refresh();

  // A problem's errors in the signer's words: "Date on page 1: This date field is required."
  function describe(error) {
    const match = /^fields\.([^.]+)/.exec(error.field || "");
    const field = match && byId[match[1]];
    if (field) { return field.name + ": " + error.message.replace(/\bfld_\w+/g, "this field"); }
    if (error.field === "consent") { return error.message; }
    if ((error.field || "").startsWith("signature")) { return "Your signature: " + error.message; }
    return error.message.replace(/\bfld_\w+/g, "a field");
  }

  async function post(path, body) {
    const response = await fetch("/s/" + token + path, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      // The field errors say it all (the detail repeats them): each once, in the signer's words.
      const details = Array.from(new Set((data.errors || []).map(describe)));
      const error = new Error(details.length ? details.join(" ")
        : (data.detail || "Something went wrong.").replace(/\bfld_\w+/g, "a field"));
      const first = (data.errors || []).map(function (e) {
        const match = /^fields\.([^.]+)/.exec(e.field || "");
        return match && byId[match[1]];
      }).find(Boolean);
      error.field = first;
      throw error;
    }
    return data;
  }

  function finish(message) {
    signForm.remove();
    declineForm.remove();
    show(message, false);
    statusBox.setAttribute("tabindex", "-1");
    statusBox.focus();
  }

  signForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!document.getElementById("consent").checked) {
      show("Please give your consent to sign electronically first.", true);
      document.getElementById("consent").focus();
      return;
    }
    const missing = fields.find(function (f) { return f.required && !f.signature && !isDone(f); });
    if (missing) {
      show(missing.name + ": " + (missing.el.type === "checkbox" ? "please tick it." : "please fill it in."), true);
      goToInput(missing);
      return;
    }
    const values = {};
    document.querySelectorAll("[data-field]").forEach(function (input) {
      if (input.dataset.type === "checkbox") { values[input.dataset.field] = input.checked; }
      else if (input.value !== "") { values[input.dataset.field] = input.value; }
    });
    let signature;
    if (document.getElementById("sig-drawn").checked) {
      if (!drawn) { show("Please draw your signature, or choose to type it.", true); return; }
      signature = {type: "drawn", png_base64: pad.toDataURL("image/png").split(",")[1]};
    } else {
      const text = document.getElementById("typed-name").value.trim();
      if (!text) { show("Please type your name as your signature.", true); return; }
      signature = {type: "typed", text: text};
    }
    document.getElementById("sign-button").disabled = true;
    try {
      const result = await post("/sign", {consent: true, signature: signature, fields: values});
      finish(result.agreement_status === "completed"
        ? "Thank you — you signed, and the agreement is now complete. Everyone will receive the signed copy by email."
        : "Thank you — you signed. You will receive the signed copy by email once everyone has signed.");
    } catch (error) {
      show(error.message, true);
      document.getElementById("sign-button").disabled = false;
      if (error.field) { goToInput(error.field); }
    }
  });

  declineForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    const reason = document.getElementById("decline-reason").value.trim();
    if (!reason) { show("Please say why you decline.", true); document.getElementById("decline-reason").focus(); return; }
    try {
      await post("/decline", {reason: reason});
      finish("You declined this agreement. The sender has been told.");
    } catch (error) {
      show(error.message, true);
    }
  });
})();
