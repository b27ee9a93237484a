// A notification as the notifier makes it, for the tests of what receivers are sent: Kim Long past its
// alarm level 3 on 27 October 2025 (docs/hue-places.md), with a message a rule would render.
import type { Alert } from '../../alerts/index.ts';
import { AgencyInput, type AgencyRecord } from '../../devices/index.ts';
import type { Notification } from '../../notify/index.ts';

export const KIM_LONG_ALERT: Alert = {
  id: 12,
  rule: 'river-alarm-level',
  device: 'rg-kim-long',
  kind: 'flood',
  district: 'Kim Long',
  owner: 'flood-control',
  title: 'River above alarm level',
  severity: 'critical',
  state: 'open',
  source: 'rule',
  message: 'Trạm thủy văn Kim Long (Hương): water level 3.62 m, past alarm level 3 <3.5 m>',
  value: 3.62,
  threshold: 3.5,
  level: 3,
  raisedAt: '2025-10-27T01:00:00.000Z',
  updatedAt: '2025-10-27T01:00:00.000Z',
  acknowledgedAt: null,
  acknowledgedBy: null,
  acknowledgeNote: null,
  resolvedAt: null,
  resolvedBy: null,
  resolveNote: null,
  resolution: null,
};

export const KIM_LONG_NOTIFICATION: Notification = {
  key: '5d0c0f1e2a3b4c5d.1#1',
  route: 1,
  group: { agency: 'flood-control', district: 'Kim Long' },
  status: 'firing',
  alerts: [
    {
      ...KIM_LONG_ALERT,
      event: { type: 'escalated', at: '2025-10-27T01:00:00.000Z' },
      link: 'http://localhost:8080/console/#/alerts/12',
    },
  ],
};

/** Flood control, in `language`, with the given receivers. */
export function floodControl(language: 'vi' | 'en', receivers: AgencyInput['receivers']): AgencyRecord {
  return {
    ...AgencyInput.parse({
      id: 'flood-control',
      name: { vi: 'Ban Chỉ huy PCTT và TKCN', en: 'Flood steering committee' },
      language,
      receivers,
    }),
    created_at: '',
    updated_at: '',
  };
}
