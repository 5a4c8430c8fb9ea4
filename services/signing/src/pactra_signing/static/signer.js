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

  async function post(path, body) {
    const response = await fetch("/s/" + token + path, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      const details = (data.errors || []).map(function (e) { return e.field + ": " + e.message; }).join("; ");
      throw new Error((data.detail || "Something went wrong.") + (details ? " " + details : ""));
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
    const fields = {};
    document.querySelectorAll("[data-field]").forEach(function (input) {
      if (input.dataset.type === "checkbox") { fields[input.dataset.field] = input.checked; }
      else if (input.value !== "") { fields[input.dataset.field] = input.value; }
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
      const result = await post("/sign", {consent: true, signature: signature, fields: fields});
      finish(result.agreement_status === "completed"
        ? "Thank you — you signed, and the agreement is now complete. Everyone will receive the signed copy by email."
        : "Thank you — you signed. You will receive the signed copy by email once everyone has signed.");
    } catch (error) {
      show(error.message, true);
      document.getElementById("sign-button").disabled = false;
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
