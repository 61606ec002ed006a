/* Card payment on our page ("finalize on the server").
 *
 * Stripe.js renders the card fields and turns the card into a token; the card data
 * goes from the browser to Stripe only. We send the token to our server, which
 * attaches it to the PaymentIntent and confirms it. Only when the bank asks for
 * 3-D Secure does the browser run stripe.confirmCardPayment(clientSecret). Then the
 * status page asks the server, which asks Stripe: the browser's word is never trusted.
 */
(function () {
  "use strict";

  var form = document.getElementById("card-form");
  if (!form) {
    return;
  }
  var errors = document.getElementById("card-errors");
  var statusLine = document.getElementById("card-status");
  var button = document.getElementById("card-submit");
  var field = document.getElementById("card-element");
  var data = form.dataset;

  function showError(message) {
    // role="alert": screen readers announce the new text at once.
    errors.textContent = message;
    field.classList.add("has-error");
    field.setAttribute("aria-invalid", "true");
    statusLine.textContent = "";
  }

  function clearError() {
    errors.textContent = "";
    field.classList.remove("has-error");
    field.removeAttribute("aria-invalid");
  }

  function setBusy(busy, message) {
    button.disabled = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
    statusLine.textContent = busy ? message || data.msgWorking : "";
  }

  if (typeof window.Stripe !== "function") {
    showError(data.msgUnavailable);
    button.disabled = true;
    return;
  }

  var stripe = window.Stripe(data.publishableKey, { locale: data.locale || "cs" });
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount(field);
  card.on("change", function (event) {
    if (event && event.error) {
      showError(event.error.message);
    } else if (errors.textContent) {
      clearError();
    }
  });

  async function postToken(tokenId) {
    var response = await fetch(data.confirmUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": data.csrfToken,
      },
      body: JSON.stringify({ token: tokenId }),
    });
    var body = await response.json().catch(function () {
      return {};
    });
    return { ok: response.ok, body: body };
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (button.disabled) {
      return;
    }
    clearError();
    setBusy(true);
    try {
      var tokenResult = await stripe.createToken(card);
      if (tokenResult.error || !tokenResult.token) {
        var detail = tokenResult.error && tokenResult.error.message;
        showError(data.msgIncomplete + (detail ? " (" + detail + ")" : ""));
        setBusy(false);
        return;
      }
      var result = await postToken(tokenResult.token.id);
      if (!result.ok) {
        showError(result.body.error || data.msgFailed);
        setBusy(false);
        return;
      }
      if (result.body.requires_action && result.body.client_secret) {
        setBusy(true, data.msgAuthenticate);
        // Success or failure of 3-D Secure: the status page learns it from Stripe.
        await stripe.confirmCardPayment(result.body.client_secret);
      }
      window.location.assign(result.body.next || data.statusUrl);
    } catch (err) {
      showError(data.msgFailed);
      setBusy(false);
    }
  });
})();
