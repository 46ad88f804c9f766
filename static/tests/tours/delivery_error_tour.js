/** @odoo-module **/
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

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
            trigger: ".o_group_header:contains('Recipient unknown')",
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
