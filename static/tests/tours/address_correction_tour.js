/** @odoo-module **/
import { registry } from "@web/core/registry";

/* A contact whose blocked address was corrected offers to remove the old block: the
   banner opens core's unblock wizard, which asks why; the banner is then gone. */
registry.category("web_tour.tours").add("mass_mailing_delivery_address_correction_tour", {
    steps: () => [
        {
            content: "The contact says its previous address is still blocked, and why",
            trigger: ".o_form_view .o_mmd_previous_email:contains('old.tour@nouser.example'):contains('Hard bounce')",
            timeout: 30000,
        },
        {
            content: "Offer accepted: remove the block",
            trigger: ".o_form_view .o_mmd_previous_email button[name='action_mmd_unblock_previous_email']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "Core's unblock wizard is on the old address",
            trigger: ".modal .o_field_widget[name='email']:contains('old.tour@nouser.example'), .modal .o_field_widget[name='email'] input",
            timeout: 30000,
        },
        {
            content: "Say why",
            trigger: ".modal .o_field_widget[name='reason'] input, .modal .o_field_widget[name='reason'] textarea",
            timeout: 30000,
            run: "edit Address corrected on the contact",
        },
        {
            content: "Unblock",
            trigger: ".modal button[name='action_unblacklist_apply']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The banner is gone",
            trigger: "body:not(:has(.modal)) .o_action_manager .o_form_view:not(:has(.o_mmd_previous_email))",
            timeout: 30000,
        },
    ],
});

/* The same offer declined: the banner's *Keep it* dismisses it, the block stays. */
registry.category("web_tour.tours").add("mass_mailing_delivery_address_correction_keep_tour", {
    steps: () => [
        {
            content: "The contact says its previous address is still blocked",
            trigger: ".o_form_view .o_mmd_previous_email:contains('kept.tour@nouser.example')",
            timeout: 30000,
        },
        {
            content: "Offer declined: keep the block",
            trigger: ".o_form_view .o_mmd_previous_email button[name='action_mmd_keep_previous_block']",
            timeout: 30000,
            run: "click",
        },
        {
            content: "The banner is gone, without a dialog",
            trigger: "body:not(:has(.modal)) .o_action_manager .o_form_view:not(:has(.o_mmd_previous_email))",
            timeout: 30000,
        },
    ],
});
