// Every string of the console in Vietnamese and English, and dates and numbers in the chosen locale and the
// city's time zone. The choice is remembered in the browser (localStorage).
export type Lang = 'vi' | 'en';

const STRINGS = {
  vi: {
    title: 'Trung tâm điều hành',
    signIn: 'Đăng nhập',
    signOut: 'Đăng xuất',
    username: 'Tên đăng nhập',
    password: 'Mật khẩu',
    signInFailed: 'Tên đăng nhập hoặc mật khẩu không đúng.',
    signInLocked: 'Quá nhiều lần thử sai. Vui lòng thử lại sau {s} giây.',
    inbox: 'Cảnh báo',
    none: 'Không có cảnh báo nào đang mở.',
    live: 'Trực tiếp',
    reconnecting: 'Đang kết nối lại…',
    severity: { info: 'Thông tin', warning: 'Cảnh báo', critical: 'Nghiêm trọng' },
    state: { open: 'Đang mở', acknowledged: 'Đã tiếp nhận', resolved: 'Đã xử lý' },
    acknowledge: 'Tiếp nhận',
    resolve: 'Xử lý xong',
    note: 'Ghi chú',
    confirm: 'Xác nhận',
    cancel: 'Hủy',
    device: 'Thiết bị',
    district: 'Khu vực',
    owner: 'Đơn vị',
    raised: 'Phát sinh',
    value: 'Giá trị',
    limit: 'Ngưỡng',
    by: 'bởi',
    filter: 'Lọc theo nội dung',
    language: 'English',
    error: 'Không thực hiện được: {m}',
    back: '← Tất cả cảnh báo',
    history: 'Diễn biến',
    notifications: 'Thông báo đã gửi',
    noNotifications: 'Chưa có thông báo nào.',
    attempts: '{n} lần gửi',
    event: {
      raised: 'Phát sinh',
      updated: 'Cập nhật',
      escalated: 'Tăng mức',
      referred: 'Chuyển cấp',
      acknowledged: 'Tiếp nhận',
      resolved: 'Xử lý xong',
    },
    delivery: { pending: 'Đang chờ gửi lại', delivered: 'Đã gửi', dead: 'Gửi thất bại' },
    allSeverities: 'Mọi mức độ',
    severityLabel: 'Mức độ',
    kind: 'Loại',
    allKinds: 'Mọi loại',
    allDistricts: 'Mọi khu vực',
    allAgencies: 'Mọi đơn vị',
    critical: 'Có cảnh báo nghiêm trọng mới',
    sound: 'Âm báo',
    notFound: 'Không có cảnh báo này.',
    map: 'Bản đồ',
    select: 'Chọn {title} ({device})',
    selected: 'Đã chọn {n} cảnh báo',
    more: 'Đang hiện {shown} trên {total} cảnh báo; cuộn xuống để xem thêm.',
    agencies: 'Đơn vị',
    agency: 'Đơn vị',
    open: 'Đang mở',
    meanAck: 'Tiếp nhận trung bình',
    meanResolve: 'Xử lý trung bình',
    targets: 'Mục tiêu tiếp nhận (nghiêm trọng / cảnh báo / thông tin)',
    last30: '30 ngày qua',
    minutes: '{n} phút',
    overTarget: 'chậm hơn mục tiêu',
    latest: 'Giá trị mới nhất',
    chart: 'Biểu đồ',
    hours: '{n} giờ',
    days: '{n} ngày',
    alertsOfDevice: 'Cảnh báo của thiết bị',
    deadLetters: 'Bản tin bị từ chối gần đây',
    noDeadLetters: 'Không có bản tin nào bị từ chối.',
    registry: 'Thông tin đăng ký',
    maintenance: 'Đang bảo trì đến {t}: {r}',
    noData: 'Chưa có số liệu.',
    openDevice: 'Xem thiết bị',
    deviceStatus: { ok: 'Bình thường', alerting: 'Có cảnh báo', silent: 'Mất tín hiệu' },
    devices: '{n} thiết bị',
    openAlerts: '{n} cảnh báo đang mở',
    around: 'Số liệu {field} quanh cảnh báo',
    commands: 'Lệnh điều khiển',
    command: 'Lệnh',
    commandValue: 'Trạng thái',
    levelPct: 'Mức sáng (%)',
    intervalS: 'Chu kỳ gửi (giây)',
    send: 'Gửi lệnh',
    noCommands: 'Chưa có lệnh nào.',
    commandState: {
      queued: 'Đang chờ',
      sent: 'Đã gửi',
      acknowledged: 'Đã thực hiện',
      failed: 'Bị từ chối',
      expired: 'Hết hạn',
    },
    commandCheck: {
      pending: 'đang đối chiếu',
      matched: 'số liệu khớp',
      mismatched: 'số liệu không khớp',
      unverified: 'chưa đối chiếu được',
    },
    users: 'Người dùng',
    displayName: 'Tên hiển thị',
    role: 'Vai trò',
    roles: { viewer: 'Xem', operator: 'Trực ban', engineer: 'Kỹ sư', admin: 'Quản trị' },
    roleOf: 'Vai trò của {user}',
    languageLabel: 'Ngôn ngữ',
    since: 'Tạo lúc',
    actions: 'Thao tác',
    disabled: 'đã khóa',
    newPassword: 'Đặt mật khẩu mới',
    newPasswordFor: 'Mật khẩu mới cho {user}',
    passwordSet: 'Đã đặt mật khẩu mới cho {user}; các phiên đăng nhập của họ đã kết thúc.',
    enable: 'Mở khóa',
    disable: 'Khóa',
    userEnabled: 'Đã mở khóa {user}.',
    userDisabled: 'Đã khóa {user}; các phiên đăng nhập của họ đã kết thúc.',
    remove: 'Xóa',
    removeUserConfirm: 'Xóa người dùng {user}?',
    userRemoved: 'Đã xóa {user}.',
    userChanged: 'Đã đổi vai trò của {user}; các phiên đăng nhập của họ đã kết thúc.',
    newUser: 'Thêm người dùng',
    firstPassword: 'Mật khẩu (ít nhất 12 ký tự)',
    create: 'Tạo',
    userCreated: 'Đã tạo {user}.',
  },
  en: {
    title: 'Operations centre',
    signIn: 'Sign in',
    signOut: 'Sign out',
    username: 'User name',
    password: 'Password',
    signInFailed: 'The user name or the password is wrong.',
    signInLocked: 'Too many failed attempts. Try again in {s} s.',
    inbox: 'Alerts',
    none: 'No open alerts.',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    severity: { info: 'Info', warning: 'Warning', critical: 'Critical' },
    state: { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' },
    acknowledge: 'Acknowledge',
    resolve: 'Resolve',
    note: 'Note',
    confirm: 'Confirm',
    cancel: 'Cancel',
    device: 'Device',
    district: 'District',
    owner: 'Agency',
    raised: 'Raised',
    value: 'Value',
    limit: 'Limit',
    by: 'by',
    filter: 'Filter by text',
    language: 'Tiếng Việt',
    error: 'Could not do that: {m}',
    back: '← All alerts',
    history: 'History',
    notifications: 'Notifications sent',
    noNotifications: 'No notification yet.',
    attempts: '{n} attempt(s)',
    event: {
      raised: 'Raised',
      updated: 'Updated',
      escalated: 'Escalated',
      referred: 'Referred',
      acknowledged: 'Acknowledged',
      resolved: 'Resolved',
    },
    delivery: { pending: 'Waiting to retry', delivered: 'Delivered', dead: 'Failed' },
    allSeverities: 'All severities',
    severityLabel: 'Severity',
    kind: 'Kind',
    allKinds: 'All kinds',
    allDistricts: 'All districts',
    allAgencies: 'All agencies',
    critical: 'New critical alert',
    sound: 'Sound',
    notFound: 'No such alert.',
    map: 'Map',
    select: 'Select {title} ({device})',
    selected: '{n} alert(s) selected',
    more: 'Showing {shown} of {total} alerts; scroll down for more.',
    agencies: 'Agencies',
    agency: 'Agency',
    open: 'Open',
    meanAck: 'Mean time to acknowledge',
    meanResolve: 'Mean time to resolve',
    targets: 'Acknowledge targets (critical / warning / info)',
    last30: 'the last 30 days',
    minutes: '{n} min',
    overTarget: 'slower than the target',
    latest: 'Latest values',
    chart: 'Chart',
    hours: '{n} h',
    days: '{n} days',
    alertsOfDevice: "The device's alerts",
    deadLetters: 'Recently refused messages',
    noDeadLetters: 'No refused message.',
    registry: 'Registry',
    maintenance: 'In maintenance until {t}: {r}',
    noData: 'No data yet.',
    openDevice: 'Open the device',
    deviceStatus: { ok: 'OK', alerting: 'Alerting', silent: 'Silent' },
    devices: '{n} devices',
    openAlerts: '{n} open alert(s)',
    around: '{field} around the alert',
    commands: 'Commands',
    command: 'Command',
    commandValue: 'State',
    levelPct: 'Level (%)',
    intervalS: 'Report every (s)',
    send: 'Send',
    noCommands: 'No command yet.',
    commandState: {
      queued: 'Queued',
      sent: 'Sent',
      acknowledged: 'Carried out',
      failed: 'Refused',
      expired: 'Expired',
    },
    commandCheck: {
      pending: 'checking',
      matched: 'reading matches',
      mismatched: 'reading differs',
      unverified: 'could not be checked',
    },
    users: 'Users',
    displayName: 'Display name',
    role: 'Role',
    roles: { viewer: 'Viewer', operator: 'Operator', engineer: 'Engineer', admin: 'Admin' },
    roleOf: "{user}'s role",
    languageLabel: 'Language',
    since: 'Created',
    actions: 'Actions',
    disabled: 'disabled',
    newPassword: 'Set a new password',
    newPasswordFor: 'New password for {user}',
    passwordSet: "{user}'s new password is set; their sessions have ended.",
    enable: 'Enable',
    disable: 'Disable',
    userEnabled: '{user} is enabled.',
    userDisabled: '{user} is disabled; their sessions have ended.',
    remove: 'Remove',
    removeUserConfirm: 'Remove the user {user}?',
    userRemoved: '{user} is removed.',
    userChanged: "{user}'s role is changed; their sessions have ended.",
    newUser: 'Add a user',
    firstPassword: 'Password (12 characters or more)',
    create: 'Create',
    userCreated: '{user} is created.',
  },
} as const;

export type Strings = (typeof STRINGS)[Lang];

const KEY = 'city-console-lang';
/** The city's time zone: every time is shown as Huế reads it. */
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';

export function savedLang(): Lang {
  const saved = globalThis.localStorage?.getItem(KEY);
  return saved === 'en' || saved === 'vi' ? saved : 'vi';
}

export function saveLang(lang: Lang): void {
  globalThis.localStorage?.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export function strings(lang: Lang): Strings {
  return STRINGS[lang];
}

/** A template's `{name}` filled in. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => String(values[name] ?? ''));
}

// Formatters are made once per language: a thousand rows must not build a thousand of them.
const timeFormats = new Map<Lang, Intl.DateTimeFormat>();
const numberFormats = new Map<Lang, Intl.NumberFormat>();

export function formatTime(iso: string, lang: Lang): string {
  let format = timeFormats.get(lang);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', {
      timeZone: TIME_ZONE,
      dateStyle: 'short',
      timeStyle: 'medium',
    });
    timeFormats.set(lang, format);
  }
  return format.format(new Date(iso));
}

export function formatNumber(value: number, lang: Lang): string {
  let format = numberFormats.get(lang);
  if (format === undefined) {
    format = new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: 2 });
    numberFormats.set(lang, format);
  }
  return format.format(value);
}
