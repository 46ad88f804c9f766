import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

import { Component, onWillStart, onWillUnmount, onWillUpdateProps, useState } from "@odoo/owl";

/** Poll period (ms) while the mailing is queued or sending. */
export const LIVE_SUMMARY_POLL_MS = 3000;

/**
 * Live summary box of a mailing: compact figures read by one RPC
 * (mailing.mailing.get_live_summary), refreshed by itself while the mailing
 * is queued or sending. Every figure opens the recipients behind it.
 */
export class MailingLiveSummary extends Component {
    static props = { ...standardWidgetProps, links: { type: Boolean, optional: true } };
    static template = "mass_mailing_delivery.MailingLiveSummary";

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ summary: null });
        this.timer = null;
        onWillStart(() => this.load(this.props.record.resId));
        onWillUpdateProps((nextProps) => this.load(nextProps.record.resId));
        onWillUnmount(() => clearTimeout(this.timer));
    }

    get figures() {
        const summary = this.state.summary;
        return [
            ["total", _t("Total"), null],
            ["to_send", _t("To send"), null],
            ["sent", _t("Sent"), summary.rates.sent],
            ["delivered", _t("Delivered"), summary.rates.delivered],
            ["opened", _t("Opened"), summary.rates.opened],
            ["clicked", _t("Clicked"), summary.rates.clicked],
            ["replied", _t("Replied"), summary.rates.replied],
            ["ignored", _t("Ignored"), summary.rates.ignored],
            ["not_sent", _t("Not sent"), summary.rates.not_sent],
            ["bounced", _t("Bounced"), summary.rates.bounced],
        ].map(([key, label, rate]) => ({ key, label, rate, value: summary[key] }));
    }

    get eta() {
        const seconds = this.state.summary?.eta_seconds;
        if (!seconds) {
            return "";
        }
        const hours = Math.floor(seconds / 3600);
        const minutes = Math.floor((seconds % 3600) / 60);
        const secs = seconds % 60;
        return hours ? `${hours}h ${minutes}m` : minutes ? `${minutes}m ${secs}s` : `${secs}s`;
    }

    async load(resId) {
        clearTimeout(this.timer);
        if (!resId) {
            this.state.summary = null;
            return;
        }
        this.state.summary = await this.orm.call("mailing.mailing", "get_live_summary", [[resId]]);
        const { state, to_send } = this.state.summary;
        if (["in_queue", "sending"].includes(state) || to_send > 0) {
            this.timer = setTimeout(() => this.load(resId), LIVE_SUMMARY_POLL_MS);
        }
    }

    async openFigure(key) {
        const action = await this.orm.call("mailing.mailing", "action_view_summary_traces", [
            [this.props.record.resId],
            key,
        ]);
        if (action) {
            this.action.doAction(action);
        }
    }

    async openLink(linkId) {
        const action = await this.orm.call("mailing.mailing", "action_view_link_clicks", [
            [this.props.record.resId],
            linkId,
        ]);
        if (action) {
            this.action.doAction(action);
        }
    }
}

registry.category("view_widgets").add("mmd_live_summary", {
    component: MailingLiveSummary,
    extractProps: ({ attrs }) => ({ links: attrs.links === "1" }),
});
