/** @odoo-module **/
/* A "blocked" symbol for an e-mail address, with the reason on hover. */
import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

export class BlockedReasonField extends Component {
    static template = "mass_mailing_delivery.BlockedReasonField";
    static props = { ...standardFieldProps };

    get summary() {
        return this.props.record.data[this.props.name] || "";
    }

    /** The tooltip's lines: reason and date, evidence, what to do. */
    get tooltipInfo() {
        return JSON.stringify({ lines: this.summary.split("\n").filter(Boolean) });
    }

    get ariaLabel() {
        return _t("Blocked address: %(reason)s", { reason: this.summary });
    }
}

export const blockedReasonField = {
    component: BlockedReasonField,
    displayName: _t("Blocked address"),
    supportedTypes: ["char"],
};

registry.category("fields").add("mmd_blocked_reason", blockedReasonField);
