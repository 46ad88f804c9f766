/** @odoo-module **/
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** ``texts`` in the user's language (``{en: ..., it: ...}``): the tour runs in English
    and in Italian. */
function translated(texts) {
    return texts[user.lang.slice(0, 2)] ?? texts.en;
}

/* A manager opens the delivery error registry from the Email Marketing menu, opens the
   "recipient unknown" entry and reads its explanation. */
registry.category("web_tour.tours").add("mass_mailing_delivery_registry_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Email Marketing",
            trigger: '.o_app[data-menu-xmlid="mass_mailing.mass_mailing_menu_root"]',
            run: "click",
        },
        {
            content: "Open Configuration",
            trigger: '.o_menu_sections button[data-menu-xmlid="mass_mailing.mass_mailing_configuration"]',
            run: "click",
        },
        {
            content: "Open Delivery Errors",
            trigger: '.o-dropdown-item[data-menu-xmlid="mass_mailing_delivery.mail_delivery_error_menu"]',
            run: "click",
        },
        {
            content: "Search the unknown-recipient entries",
            trigger: ".o_searchview_input",
            run: "edit 5.1.1",
        },
        {
            content: "Validate the search",
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Unfold the category group",
            trigger: `.o_group_header:contains('${translated({ en: "Recipient unknown", it: "Destinatario sconosciuto" })}')`,
            run: "click",
        },
        {
            content: "Open the entry",
            trigger: ".o_data_row td[name='name']",
            run: "click",
        },
        {
            content: "The entry's form shows its category",
            trigger: ".o_field_widget[name='category'] select, .o_field_widget[name='category']",
        },
        {
            content: "The explanation is shown",
            trigger: ".o_field_widget[name='explanation'] textarea",
        },
        {
            content: "The advice is shown",
            trigger: ".o_field_widget[name='advice'] textarea",
        },
    ],
});
