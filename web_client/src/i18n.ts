// Chinese first, English second. Every visible string goes through t().

import { prefs } from "./prefs";

const zh = {
  app: "调解", appFull: "调解 · 在线调解室",
  lang: "English", langLabel: "Switch language to English",
  bigText: "大字模式", bigTextOn: "大字模式：开", bigTextLabel: "放大文字和按钮",
  // join
  joinTitle: "加入在线调解", joinIntro: "您受邀参加人民调解委员会的在线调解。只需三步：检查设备、填写姓名、同意告知。",
  stepDevices: "第 1 步：检查摄像头和麦克风", stepName: "第 2 步：您的姓名", stepConsent: "第 3 步：知情同意",
  noLink: "这个链接不完整或已失效。请向调解员索取新的链接。",
  camPreview: "您的摄像头画面", micLevel: "麦克风音量", micHint: "请说几句话，绿色条会随声音变化。",
  camOk: "摄像头正常", micOk: "麦克风正常", noDevices: "没有找到摄像头或麦克风，您仍可以加入并使用文字交流。",
  devicesDenied: "浏览器没有允许使用摄像头和麦克风。您仍可加入，稍后可在浏览器设置中允许。",
  retryDevices: "重新检查设备", devicesChecking: "正在打开摄像头和麦克风…",
  yourName: "姓名", nameHint: "调解员和其他参加人会看到这个名字。", nameRequired: "请填写您的姓名。",
  privacyTitle: "隐私告知", privacy1: "调解过程将被录音，并自动转写为文字，作为调解记录的一部分。",
  privacy2: "录音和文字记录仅供本次调解使用，由调解委员会依法保存，不会公开。",
  privacy3: "背对背（单独）谈话的内容不会让另一方看到或听到。",
  consent: "我已阅读并同意录音和文字转写", consentRequired: "需要您同意录音和转写才能加入。",
  joinBtn: "进入等候室", joining: "正在连接…",
  waitingTitle: "请稍候，调解员会请您进入", waitingText: "您已在等候室。调解员准备好后，会让您进入调解室。请不要关闭此页面。",
  waitingAs: "您的身份", deniedTitle: "调解员没有让您进入", removedTitle: "您已被移出调解室",
  sentBackTitle: "调解员请您回到等候室", endedTitle: "调解已结束", endedText: "感谢您的参与。您可以关闭此页面。",
  leftTitle: "您已离开调解", rejoin: "重新进入",
  // room
  roomTitle: "调解室", joint: "共同调解（面对面）", caucus: "单独谈话（背对背）",
  inCaucus: "您正在单独谈话中：", inJoint: "您在共同调解中",
  recording: "录音中", recordingStop: "关闭录音", recordingStart: "开始录音",
  recordingStopped: "录音已关闭", recordingStarted: "录音已开始",
  mute: "关闭麦克风", unmute: "打开麦克风", camOff: "关闭摄像头", camOn: "打开摄像头",
  leave: "离开", leaveConfirm: "确定要离开调解吗？", hand: "举手", handDown: "放下手",
  chat: "文字交流", chatPlaceholder: "输入文字…", send: "发送", chatLabel: "要发送的文字",
  captions: "字幕", bigCaptions: "大字幕", noCaptions: "有人说话时，字幕会显示在这里。",
  mediaUnavailable: "音视频暂时不可用，您仍可以用文字交流，调解照常进行。",
  mediaConnecting: "正在连接音视频…", mediaFailed: "音视频连接中断，正在重试…",
  mutedByMediator: "调解员关闭了您的麦克风", unmutedByMediator: "调解员允许您发言",
  muteRequest: "调解员请您关闭麦克风", you: "（我）", handRaised: "举手了",
  agreement: "调解协议", agreementNone: "调解员还没有共享协议草稿。", sign: "签名",
  signTitle: "在协议上签名", signHint: "请用手指或鼠标在下面的框中签名。", clearSig: "重写",
  code: "验证码", codeHint: "请输入调解员告诉您的验证码。", submitSig: "确认签名", signed: "已签名",
  notSigned: "未签名", agreementSoon: "协议起草和签名功能即将开放。",
  tileMuted: "麦克风已关", tileNoVideo: "无画面", connectedNo: "已断线",
  reconnecting: "网络中断，正在重新连接…", reconnected: "已重新连接", peerReconnecting: "正在重新连接…",
  mediaReconnecting: "音视频中断，正在重新连接…",
  quality_good: "信号良好", quality_fair: "信号一般", quality_poor: "信号差", qualityDetail: "丢包 {loss}%，延迟 {rtt}",
  myLine: "我的网络",
  devices: "设备", deviceCamera: "摄像头", deviceMic: "麦克风", deviceSpeaker: "扬声器", deviceDefault: "系统默认",
  deviceNone: "（没有找到）",
  camDenied: "浏览器没有允许使用摄像头。请在地址栏旁的网站设置中允许，再点“重新检查设备”。",
  camNone: "没有找到摄像头。别人会看到您的名字，您仍可以说话和用文字交流。",
  camBusy: "摄像头正被其他程序使用。请关闭那个程序，再点“重新检查设备”。",
  micDenied: "浏览器没有允许使用麦克风。请在地址栏旁的网站设置中允许，再点“重新检查设备”。",
  micNone: "没有找到麦克风。您仍可以用文字交流。",
  micBusy: "麦克风正被其他程序使用。请关闭那个程序，再点“重新检查设备”。",
  deviceSwitched: "已切换设备", speakerHint: "声音从这里播放",
  lobbyMessage: "给等候室留言", lobbyMessageHint: "等候的人会看到，例如：调解员将于5分钟后开始。",
  sendToLobby: "发送", lobbyMessageSent: "已发送给 {n} 位等候的人", fromMediator: "调解员留言",
  captionHistory: "字幕记录",
  // roles
  role_mediator: "调解员", role_party: "当事人", role_representative: "代理人", role_expert: "专家",
  role_clerk: "书记员", role_observer: "旁听", sideA: "申请人", sideB: "被申请人",
  // staff
  login: "登录", logout: "退出登录", username: "用户名", password: "密码", loginFailed: "用户名或密码不正确。",
  loginTitle: "工作人员登录", mediatorConsole: "调解员工作台", expertConsole: "专家工作台", clerkConsole: "书记员工作台",
  cases: "案件", newCase: "新建案件", caseNumber: "案号", disputeType: "纠纷类型", summary: "案情摘要",
  create: "创建", sessions: "调解场次", newSession: "新建场次", sessionTitle: "场次名称", open: "进入",
  status_scheduled: "待开始", status_live: "进行中", status_ended: "已结束", status_open: "受理中",
  invites: "邀请链接", newInvite: "生成邀请链接", inviteRole: "身份", inviteSide: "方", inviteLabel: "备注（如姓名）",
  copy: "复制链接", copied: "已复制", qr: "二维码", qrFor: "邀请链接二维码",
  lobby: "等候室", lobbyEmpty: "等候室里没有人。", admit: "让其进入", deny: "拒绝", sendBack: "请回等候室",
  participants: "参加人", remove: "移出", muteP: "静音", unmuteP: "取消静音", askMute: "请其静音",
  caucuses: "分组", newCaucus: "新建单独谈话", caucusName: "名称", caucusNameDefault: "与{side}单独谈话",
  moveTo: "移到", returnAll: "全部回到共同调解", endCaucus: "结束此单独谈话", jointSpace: "共同调解",
  transcript: "实时记录", transcriptEmpty: "还没有发言记录。", endSession: "结束调解", endConfirm: "确定结束本场调解？所有人都会离开。",
  expertCall: "连线专家", expertSoon: "专家连线服务尚未开放。", domain: "领域", scope: "范围",
  scopeJoint: "参加共同调解", scopePrivate: "只与调解员单独咨询", callExpert: "呼叫专家",
  back: "返回", enterRoom: "进入调解室", search: "搜索", searchCases: "搜索案号或摘要",
  noCases: "没有案件。", noSessions: "还没有场次。", events: "事件记录", download: "下载",
  verify: "验证文件", verifyHint: "选择一个签章的 PDF 文件，检查它是否真实、未被修改。", verifySoon: "文件验证服务尚未开放。",
  online: "在线", offline: "离线", incomingCall: "来电：专家咨询", accept: "接听", decline: "拒绝",
  expertWaiting: "您在线时，调解员可以呼叫您。来电时会响铃并弹出提示。",
  notLoggedIn: "请先登录。", sessionEnded: "本场调解已结束。", error: "出错了：",
  home: "首页", homeIntro: "人民调解委员会在线调解平台。当事人请使用调解员发送的链接加入。",
  staffEntry: "工作人员入口", live: "直播中", members: "成员",
  editDraft: "起草 / 修改协议", committee: "调解委员会", facts: "纠纷主要事实", responsibility: "各方责任", clause: "协议条款",
  obligor: "履行方", obligee: "权利方", obligation: "履行内容", amount: "金额（元）", deadline: "履行期限", saveDraft: "保存并展示给各方",
  draftSaved: "协议草稿已更新，各方可见。",
  startSigning: "开始签名", seal: "签章生成正式文书", sealedNotice: "协议已签章生效。", codeSent: "验证码已发送至尾号",
  getCode: "获取验证码", typedName: "不便手写时，可输入姓名代替",
  authentic: "✓ 文件真实，签章有效，内容未被修改", notAuthentic: "✗ 无法确认文件真实（可能被修改或签章无效）", signer: "签章人",
  verifyFile: "PDF 文件", documents: "调解文书", record: "调解记录", noDocuments: "还没有签章的文书。",
  jcDeadline: "司法确认申请期限：{date}（{left}）", jcDaysLeft: "剩 {n} 天", jcLastDay: "今天截止", jcOverdue: "已逾期 {n} 天",
  courtBundle: "导出司法确认材料",
  call_ringing: "正在呼叫专家…", call_accepted: "专家已接听，正在进入", call_joined: "专家已加入", call_ended: "连线已结束",
  call_declined: "专家都已拒绝", call_expired: "无人接听", call_cancelled: "已取消呼叫", call_rung: "已通知", call_end: "结束连线",
  // named sides, caucuses the mediator shapes, interpreters (views/sides.ts, caucusdialog.ts, interpreter.ts)
  role_interpreter: "翻译", interp_sign: "手语翻译", interp_dialect: "方言翻译", interp_foreign: "外语翻译",
  interpretation: "翻译类型", interpretsFor: "为 {name} 翻译", interpretFor: "翻译对象", nobody: "（未指定）",
  pinnedInterpreter: "您的翻译（放大显示）", interpretedBy: "{kind}，为 {name}",
  bySide: "参加人（按各方）", sideOthers: "调解员及其他", sides: "各方", addSide: "添加一方",
  sideNameLabel: "名称（如：第三人）", sideAdded: "已添加：{name}", sideCount: "{n} 人",
  caucusDialogTitle: "新建单独谈话（背对背）", caucusNameLabel: "名称",
  caucusMembers: "参加的人（可选任何一方、专家、翻译）", caucusLimit: "时长提醒（分钟，可不填）",
  caucusStart: "开始单独谈话", cancelBtn: "取消", caucusNeedsMembers: "请至少选择一人。",
  caucusIncludeMe: "我也参加", caucusTimer: "已进行 {t}", caucusTimerOf: "已进行 {t} / {limit}",
  caucusOver: "已到设定时长", caucusWarn: "单独谈话“{name}”已到设定时长", extend5: "延长5分钟",
  caucusExtended: "已延长5分钟", sessionLanguage: "调解语言", lang_zh: "中文", lang_en: "英文",
};

type Dict = typeof zh;
export type Key = keyof Dict;

const en: Dict = {
  app: "Tiaojie", appFull: "Tiaojie · online mediation",
  lang: "中文", langLabel: "切换到中文",
  bigText: "Large text", bigTextOn: "Large text: on", bigTextLabel: "Make text and buttons larger",
  joinTitle: "Join the online mediation", joinIntro: "You are invited to an online mediation by the people's mediation committee. Three steps: check your devices, give your name, agree to the notice.",
  stepDevices: "Step 1: check camera and microphone", stepName: "Step 2: your name", stepConsent: "Step 3: consent",
  noLink: "This link is incomplete or no longer valid. Please ask the mediator for a new one.",
  camPreview: "Your camera", micLevel: "Microphone level", micHint: "Say a few words: the green bar moves with your voice.",
  camOk: "Camera works", micOk: "Microphone works", noDevices: "No camera or microphone found. You can still join and use text chat.",
  devicesDenied: "The browser did not allow the camera and microphone. You can still join and allow them later in the browser settings.",
  retryDevices: "Check devices again", devicesChecking: "Opening camera and microphone…",
  yourName: "Name", nameHint: "The mediator and the other participants will see this name.", nameRequired: "Please give your name.",
  privacyTitle: "Privacy notice", privacy1: "The mediation is recorded and automatically transcribed into text, as part of the mediation record.",
  privacy2: "The recording and transcript are used only for this mediation and kept by the committee as the law requires; they are not published.",
  privacy3: "What you say in a private session (caucus) is not seen or heard by the other side.",
  consent: "I have read this and agree to recording and transcription", consentRequired: "Your consent to recording and transcription is needed to join.",
  joinBtn: "Go to the waiting room", joining: "Connecting…",
  waitingTitle: "Please wait: the mediator will let you in", waitingText: "You are in the waiting room. When the mediator is ready, you will be let into the mediation room. Please keep this page open.",
  waitingAs: "You are", deniedTitle: "The mediator did not let you in", removedTitle: "You were removed from the room",
  sentBackTitle: "The mediator asked you to return to the waiting room", endedTitle: "The mediation has ended", endedText: "Thank you for taking part. You may close this page.",
  leftTitle: "You left the mediation", rejoin: "Join again",
  roomTitle: "Mediation room", joint: "Joint session", caucus: "Private session (caucus)",
  inCaucus: "You are in a private session:", inJoint: "You are in the joint session",
  recording: "Recording", recordingStop: "Stop recording", recordingStart: "Start recording",
  recordingStopped: "Recording is off", recordingStarted: "Recording has started",
  mute: "Mute", unmute: "Unmute", camOff: "Camera off", camOn: "Camera on",
  leave: "Leave", leaveConfirm: "Do you want to leave the mediation?", hand: "Raise hand", handDown: "Lower hand",
  chat: "Chat", chatPlaceholder: "Type a message…", send: "Send", chatLabel: "Message to send",
  captions: "Captions", bigCaptions: "Large captions", noCaptions: "Captions appear here when someone speaks.",
  mediaUnavailable: "Audio and video are not available right now. You can still use chat; the mediation goes on.",
  mediaConnecting: "Connecting audio and video…", mediaFailed: "Audio and video were interrupted; retrying…",
  mutedByMediator: "The mediator muted your microphone", unmutedByMediator: "The mediator lets you speak again",
  muteRequest: "The mediator asks you to mute your microphone", you: " (me)", handRaised: "raised a hand",
  agreement: "Agreement", agreementNone: "The mediator has not shared a draft yet.", sign: "Sign",
  signTitle: "Sign the agreement", signHint: "Sign in the box below with your finger or the mouse.", clearSig: "Clear",
  code: "Code", codeHint: "Enter the code the mediator gives you.", submitSig: "Confirm signature", signed: "Signed",
  notSigned: "Not signed", agreementSoon: "Drafting and signing the agreement will be available soon.",
  tileMuted: "Microphone off", tileNoVideo: "No video", connectedNo: "Disconnected",
  reconnecting: "Connection lost, reconnecting…", reconnected: "Reconnected", peerReconnecting: "Reconnecting…",
  mediaReconnecting: "Audio and video interrupted, reconnecting…",
  quality_good: "Good connection", quality_fair: "Fair connection", quality_poor: "Poor connection", qualityDetail: "{loss}% loss, {rtt} round trip",
  myLine: "My connection",
  devices: "Devices", deviceCamera: "Camera", deviceMic: "Microphone", deviceSpeaker: "Speaker", deviceDefault: "System default",
  deviceNone: "(none found)",
  camDenied: "The browser did not allow the camera. Allow it in the site settings next to the address bar, then choose “Check devices again”.",
  camNone: "No camera found. The others will see your name; you can still talk and use text chat.",
  camBusy: "Another program is using the camera. Close it, then choose “Check devices again”.",
  micDenied: "The browser did not allow the microphone. Allow it in the site settings next to the address bar, then choose “Check devices again”.",
  micNone: "No microphone found. You can still use text chat.",
  micBusy: "Another program is using the microphone. Close it, then choose “Check devices again”.",
  deviceSwitched: "Device switched", speakerHint: "Sound plays here",
  lobbyMessage: "Message to the waiting room", lobbyMessageHint: "The people waiting will see it, e.g. “The mediator will start in 5 minutes.”",
  sendToLobby: "Send", lobbyMessageSent: "Sent to {n} waiting", fromMediator: "From the mediator",
  captionHistory: "Caption history",
  role_mediator: "Mediator", role_party: "Party", role_representative: "Representative", role_expert: "Expert",
  role_clerk: "Clerk", role_observer: "Observer", sideA: "Applicant", sideB: "Respondent",
  login: "Log in", logout: "Log out", username: "Username", password: "Password", loginFailed: "Wrong username or password.",
  loginTitle: "Staff login", mediatorConsole: "Mediator console", expertConsole: "Expert console", clerkConsole: "Clerk console",
  cases: "Cases", newCase: "New case", caseNumber: "Case number", disputeType: "Type of dispute", summary: "Summary",
  create: "Create", sessions: "Sessions", newSession: "New session", sessionTitle: "Session title", open: "Open",
  status_scheduled: "Scheduled", status_live: "Live", status_ended: "Ended", status_open: "Open",
  invites: "Join links", newInvite: "Create a join link", inviteRole: "Role", inviteSide: "Side", inviteLabel: "Note (e.g. name)",
  copy: "Copy link", copied: "Copied", qr: "QR code", qrFor: "QR code of the join link",
  lobby: "Waiting room", lobbyEmpty: "Nobody is waiting.", admit: "Admit", deny: "Deny", sendBack: "Send back",
  participants: "Participants", remove: "Remove", muteP: "Mute", unmuteP: "Unmute", askMute: "Ask to mute",
  caucuses: "Spaces", newCaucus: "New private session", caucusName: "Name", caucusNameDefault: "Private session with {side}",
  moveTo: "Move to", returnAll: "Everyone back to the joint session", endCaucus: "End this private session", jointSpace: "Joint session",
  transcript: "Live transcript", transcriptEmpty: "Nothing said yet.", endSession: "End session", endConfirm: "End this session? Everyone will leave.",
  expertCall: "Call an expert", expertSoon: "Expert calls are not available on this server yet.", domain: "Domain", scope: "Scope",
  scopeJoint: "Join the joint session", scopePrivate: "Private consultation with the mediator", callExpert: "Call",
  back: "Back", enterRoom: "Enter the room", search: "Search", searchCases: "Search number or summary",
  noCases: "No cases.", noSessions: "No sessions yet.", events: "Event log", download: "Download",
  verify: "Verify a file", verifyHint: "Choose a sealed PDF to check that it is authentic and unchanged.", verifySoon: "File verification is not available on this server yet.",
  online: "Online", offline: "Offline", incomingCall: "Incoming call: expert consultation", accept: "Accept", decline: "Decline",
  expertWaiting: "While you are online, mediators can call you. A call rings and shows an alert.",
  notLoggedIn: "Please log in first.", sessionEnded: "This session has ended.", error: "Error: ",
  home: "Home", homeIntro: "Online mediation for people's mediation committees. Parties join with the link the mediator sends.",
  staffEntry: "Staff", live: "Live", members: "Members",
  editDraft: "Draft / edit the agreement", committee: "Committee", facts: "Main facts of the dispute", responsibility: "Responsibility", clause: "Clause",
  obligor: "Who performs", obligee: "For whom", obligation: "What is to be done", amount: "Amount (CNY)", deadline: "Deadline", saveDraft: "Save and show to everyone",
  draftSaved: "The draft is updated and visible to everyone.",
  startSigning: "Start signing", seal: "Seal the document", sealedNotice: "The agreement is sealed and in effect.", codeSent: "Code sent to the number ending",
  getCode: "Get a code", typedName: "If you cannot draw, type your name instead",
  authentic: "✓ Authentic: the seal is valid and the content unchanged", notAuthentic: "✗ Not shown authentic (changed, or the seal is not valid)", signer: "Sealed by",
  verifyFile: "PDF file", documents: "Documents", record: "Mediation record", noDocuments: "No sealed documents yet.",
  jcDeadline: "Deadline to apply for judicial confirmation: {date} ({left})", jcDaysLeft: "{n} days left", jcLastDay: "last day today", jcOverdue: "overdue by {n} days",
  courtBundle: "Court bundle (ZIP)",
  call_ringing: "Calling experts…", call_accepted: "An expert accepted and is joining", call_joined: "The expert joined", call_ended: "Call ended",
  call_declined: "Every expert declined", call_expired: "Nobody answered", call_cancelled: "Call withdrawn", call_rung: "notified", call_end: "End call",
  role_interpreter: "Interpreter", interp_sign: "Sign-language interpreter", interp_dialect: "Dialect interpreter", interp_foreign: "Foreign-language interpreter",
  interpretation: "Interpretation", interpretsFor: "interpreting for {name}", interpretFor: "Interprets for", nobody: "(nobody)",
  pinnedInterpreter: "Your interpreter (shown large)", interpretedBy: "{kind}, for {name}",
  bySide: "Participants by side", sideOthers: "Mediator and others", sides: "Sides", addSide: "Add a side",
  sideNameLabel: "Name (e.g. third party)", sideAdded: "Added: {name}", sideCount: "{n} people",
  caucusDialogTitle: "New private session (caucus)", caucusNameLabel: "Name",
  caucusMembers: "Who takes part (any side, experts, interpreters)", caucusLimit: "Warn after (minutes, optional)",
  caucusStart: "Start the private session", cancelBtn: "Cancel", caucusNeedsMembers: "Choose at least one person.",
  caucusIncludeMe: "I take part too", caucusTimer: "Running {t}", caucusTimerOf: "Running {t} / {limit}",
  caucusOver: "Past its set length", caucusWarn: "Private session “{name}” has reached its set length", extend5: "5 more minutes",
  caucusExtended: "Extended by 5 minutes", sessionLanguage: "Session language", lang_zh: "Chinese", lang_en: "English",
};

const dicts = { zh, en };

export function t(key: Key, vars: Record<string, string> = {}): string {
  let s: string = dicts[prefs.lang][key] ?? zh[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

/** The case's own side names (申请人, 被申请人, 第三人, ...), set from the room's layout or
 * the case page; A and B keep their default names translated. */
const sideNames = new Map<string, string>();
const DEFAULT_SIDE: Record<string, [string, Key]> = { A: ["申请人", "sideA"], B: ["被申请人", "sideB"] };

export function setSideNames(sides: { key: string; name: string }[]): void {
  sideNames.clear();
  for (const s of sides) sideNames.set(s.key, s.name);
}

export function sideName(key: string): string {
  const name = sideNames.get(key), def = DEFAULT_SIDE[key];
  if (def && (name === undefined || name === def[0])) return t(def[1]);
  return name ?? key;
}

export function roleName(role: string, side?: string | null): string {
  const base = t(`role_${role}` as Key) || role;
  return side ? `${base} · ${sideName(side)}` : base;
}

export function statusName(s: string): string {
  return (dicts[prefs.lang] as Record<string, string>)[`status_${s}`] ?? s;
}
