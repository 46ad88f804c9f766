/** @odoo-module **/
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

/** ``texts`` in the user's language (``{en: ..., it: ...}``): the tour runs in English
    and in Italian. */
function translated(texts) {
    return texts[user.lang.slice(0, 2)] ?? texts.en;
}

/* A user opens an invoice that was e-mailed with tracking: the chatter message shows
   the state icons, the envelope button lists the tracked e-mails, and the e-mail that
   was not opened explains the remote-content caveat. */
registry.category("web_tour.tours").add("mass_mailing_delivery_tracking_envelope_tour", {
    steps: () => [
        {
            content: "The chatter message shows the tracking state icons",
            trigger: ".o-mail-Message .o-mmd-Message-tracking i[data-mmd-state='opened']",
        },
        {
            content: "Open the envelope of the invoice",
            trigger: ".o-mmd-Chatter-envelope:has(.o-mmd-Chatter-envelopeCounter:contains('2'))",
            run: "click",
        },
        {
            content: "The opened e-mail is listed with its state",
            trigger: `.o_data_row:contains('alice@customer.example'):contains('${translated({ en: "Opened", it: "Aperte" })}')`,
        },
        {
            content: "Open the e-mail that was not opened",
            trigger: ".o_data_row:contains('bob@customer.example') td[name='email']",
            run: "click",
        },
        {
            content: "The remote-content caveat is explained",
            trigger: `.o_form_view .alert-info:contains('${translated({ en: "remote images", it: "immagini remote" })}')`,
        },
    ],
});
