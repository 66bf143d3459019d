// Words of the agreement editor, the parties' confirmation and their copies: Chinese
// first, English second (kept apart from i18n.ts, which holds the room's words).

import { prefs } from "./prefs";

const zh = {
  editorTitle: "起草／修改调解协议", openEditor: "起草／修改协议", closeEditor: "关闭编辑器",
  committee: "人民调解委员会名称", matter: "纠纷类型", signedOn: "协议日期", copies: "协议份数",
  copiesHint: "留空则为当事人各一份、调委会留存一份。", parties: "当事人", addParty: "添加当事人",
  removeParty: "删除此当事人", partyN: "当事人 {n}", role: "身份", applicant: "申请人", respondent: "被申请人",
  third_party: "第三人", kind: "类别", person: "自然人", organisation: "法人或其他组织",
  seat: "参加方式", seatNone: "不在调解室（由代理人参加或线下签署）", seatHint: "当事人通过哪个邀请链接进入：只有从该链接进入的人才能为其确认和签名。",
  name: "姓名", orgName: "名称", sex: "性别", sexNone: "不填写", male: "男", female: "女", ethnicity: "民族",
  birthDate: "出生日期", occupation: "职业", idType: "证件类型", idNumber: "证件号码", uscc: "统一社会信用代码",
  id_resident_id: "居民身份证", id_passport: "护照", id_hk_macao_permit: "港澳居民来往内地通行证",
  id_taiwan_permit: "台湾居民来往大陆通行证", id_foreign_permanent_id: "外国人永久居留身份证", id_other: "其他证件",
  address: "住址", orgAddress: "住所地", phone: "联系电话", email: "电子邮箱", emailHint: "不打印在协议上，仅用于发送副本。",
  legalRep: "法定代表人", legalRepTitle: "职务", agents: "委托代理人", addAgent: "添加委托代理人", removeAgent: "删除此代理人",
  agentN: "委托代理人 {n}", agentKind: "代理人身份", agent_lawyer: "律师", agent_legal_worker: "基层法律服务工作者",
  agent_relative: "近亲属", agent_employee: "工作人员", agent_community: "社区推荐", agent_other: "其他",
  authority: "代理权限", authority_general: "一般授权", authority_special: "特别授权",
  agentSeatHint: "代理人通过哪个邀请链接进入：代理人为当事人确认信息并在当事人一栏签名。",
  facts: "纠纷的主要事实", disputed: "争议事项", addDisputed: "添加争议事项", disputedN: "争议事项 {n}",
  remove: "删除", responsibility: "各方当事人的责任", clauses: "协议条款", addClause: "添加条款", clauseN: "第 {n} 条",
  removeClause: "删除此条", obligor: "义务人", obligee: "权利人", obligation: "义务内容", amount: "金额（元）",
  method: "履行方式", place: "履行地点", deadline: "履行期限", otherTerms: "其他约定", addOther: "添加其他约定",
  otherN: "其他约定 {n}", mediatorName: "调解员", mediatorPhone: "调解员手机号",
  mediatorPhoneHint: "调解员签名时的验证码发送到此号码。", recorder: "记录人",
  recorderHint: "记录人姓名印在协议上，不需要签名；没有书记员时可由调解员兼任或填写其他工作人员。",
  recorderNone: "不填写", recorderMediator: "由调解员本人兼任", recorderOther: "其他工作人员",
  recorderOtherName: "其他工作人员姓名", preview: "预览（与打印件一致）", previewEmpty: "填写后在此预览。",
  save: "保存草稿并共享", saved: "草稿已保存，各方可见。", fixErrors: "请先更正标红的项目。",
  confirmState: "当事人确认", st_pending: "待确认", st_confirmed: "已确认", st_corrected: "要求更正",
  applyCorrection: "采用当事人的更正", correctionApplied: "已填入当事人的更正，请保存草稿。",
  required: "此项必填",
  // parties' confirmation
  confirmTitle: "请核对协议上关于您的信息", confirmIntro: "协议上将这样写您的信息。请逐项核对，有误请直接修改后提交。",
  confirmAsAgent: "您是 {party} 的委托代理人。", printedAs: "协议上的写法", confirmOk: "信息无误，确认",
  confirmFix: "提交更正", confirmedNote: "您已确认，请等待调解员开始签名。", correctedNote: "更正已提交，请等待调解员修改协议后再次核对。",
  signingPhone: "接收签名验证码的手机号", myAgentDetails: "您本人（代理人）的信息",
  // copies
  myCopy: "下载我的协议副本", copyKeep: "请保存此链接，调解结束后 {days} 天内仍可下载您的副本：",
  wetInk: "纸质签署（婚姻、收养、继承纠纷不适用电子签名）", wetInkIntro: "打印协议，由各方当事人和调解员在纸面上签名，加盖调委会印章后，上传扫描件存档。",
  wetInkPrint: "打印协议（PDF）", wetInkScan: "签署后的扫描件（PDF、JPG 或 PNG）", wetInkUpload: "上传存档",
  wetInkArchived: "扫描件已存档，SHA-256：{sha}",
  copyCopied: "链接已复制", copyLinkBtn: "复制副本链接", sendCopy: "发送副本", sendSms: "短信发送下载链接",
  sendEmail: "邮件发送PDF", sentTo: "已发送至 {to}", copyTitle: "我的调解文书", copyIntro: "这里是您作为当事人保存的已签章文书。",
  copyNone: "暂时没有可下载的文书。", copyNoLink: "这个链接不完整或已失效。请向调解委员会索取。",
  availableUntil: "可下载至 {date}", download: "下载 PDF", copyDownloaded: "已下载",  // the record (人民调解记录) drafted from the transcript
  recordFromTranscript: "从转写生成调解记录", recordTitle: "编辑调解记录", recordCreated: "已根据本次会议的共同转写生成调解记录草稿（不含背靠背内容）。",
  recordSubject: "事由", recordPlace: "地点", recordRights: "已告知当事人权利义务，当事人表示知悉",
  recordStatements: "调解情况（按发言人合并的共同转写）", recordSpeaker: "发言人", recordText: "内容",
  recordReached: "达成协议", recordOutcome: "调解结果", recordPhones: "签名验证码接收手机号",
  recordRecorder: "记录人",
  recordRecorderMode: "记录人（由本调委会选择）", recordRecorderClerk: "{name}（书记员，在场签名）",
  recordRecorderHint: "在场的书记员作为记录人签名；没有书记员时，记录人姓名印在记录上，由当事人和调解员签名。",
  // the sealed document's short id for the public verify page
  verifyId: "验证编号", verifyHint: "任何人都可以打开此链接或在验证页面输入编号，核验文书是否真实、未被改动。",
  // the session's documents in the mediator's and clerk's panel
  docs: "本次调解的文书", kind_agreement: "调解协议书", kind_record: "调解记录", kind_oral_register: "口头协议登记表",
  docSealed: "已签章", docDraft: "草稿 v{n}", docCaucus: "背靠背",
};

type Dict = typeof zh;
export type TKey = keyof Dict;

const en: Dict = {
  editorTitle: "Draft / edit the agreement", openEditor: "Draft / edit the agreement", closeEditor: "Close the editor",
  committee: "People's mediation committee", matter: "Matter", signedOn: "Date of the agreement", copies: "Copies",
  copiesHint: "Empty: one per party and one for the committee.", parties: "Parties", addParty: "Add a party",
  removeParty: "Remove this party", partyN: "Party {n}", role: "Role", applicant: "Applicant", respondent: "Respondent",
  third_party: "Third party", kind: "Kind", person: "Natural person", organisation: "Organisation",
  seat: "How they take part", seatNone: "Not in the room (an agent takes part, or signs on paper)", seatHint: "The join link the party came in through: only whoever came in through it confirms and signs for them.",
  name: "Name", orgName: "Registered name", sex: "Sex", sexNone: "Not given", male: "Male", female: "Female", ethnicity: "Ethnicity",
  birthDate: "Date of birth", occupation: "Occupation", idType: "ID document", idNumber: "ID number", uscc: "Unified social credit code",
  id_resident_id: "Resident ID card", id_passport: "Passport", id_hk_macao_permit: "Hong Kong/Macao permit",
  id_taiwan_permit: "Taiwan permit", id_foreign_permanent_id: "Foreign permanent residence ID", id_other: "Other document",
  address: "Address", orgAddress: "Registered address", phone: "Phone", email: "E-mail", emailHint: "Not printed; used to send a copy.",
  legalRep: "Legal representative", legalRepTitle: "Post", agents: "Authorised agents", addAgent: "Add an agent", removeAgent: "Remove this agent",
  agentN: "Agent {n}", agentKind: "Who the agent is", agent_lawyer: "Lawyer", agent_legal_worker: "Legal service worker",
  agent_relative: "Close relative", agent_employee: "Employee", agent_community: "Recommended by the community", agent_other: "Other",
  authority: "Authority", authority_general: "General authority", authority_special: "Special authority",
  agentSeatHint: "The join link the agent came in through: the agent confirms for the party and signs on its line.",
  facts: "Main facts of the dispute", disputed: "Matters in dispute", addDisputed: "Add a disputed point", disputedN: "Disputed point {n}",
  remove: "Remove", responsibility: "Responsibility of each party", clauses: "Terms", addClause: "Add a term", clauseN: "Term {n}",
  removeClause: "Remove this term", obligor: "Obligor", obligee: "Obligee", obligation: "Obligation", amount: "Amount (CNY)",
  method: "Method", place: "Place", deadline: "Deadline", otherTerms: "Other terms", addOther: "Add another term",
  otherN: "Other term {n}", mediatorName: "Mediator", mediatorPhone: "Mediator's mobile",
  mediatorPhoneHint: "The mediator's signing code goes to this number.", recorder: "Recorder",
  recorderHint: "The recorder's name is printed and needs no signature; without a clerk the mediator may record, or name another staff member.",
  recorderNone: "Not given", recorderMediator: "The mediator records", recorderOther: "Another staff member",
  recorderOtherName: "Name of the staff member", preview: "Preview (as printed)", previewEmpty: "Fill in the form to see it here.",
  save: "Save and share the draft", saved: "Draft saved; everyone can see it.", fixErrors: "Correct the fields marked in red first.",
  confirmState: "Party's confirmation", st_pending: "Not confirmed", st_confirmed: "Confirmed", st_corrected: "Asks for corrections",
  applyCorrection: "Use the party's corrections", correctionApplied: "The party's corrections are filled in; save the draft.",
  required: "Required",
  confirmTitle: "Check what the agreement says about you", confirmIntro: "This is how the agreement will describe you. Check each item; correct anything wrong and send it.",
  confirmAsAgent: "You are the authorised agent of {party}.", printedAs: "As printed", confirmOk: "It is correct",
  confirmFix: "Send corrections", confirmedNote: "Confirmed. Wait for the mediator to start signing.", correctedNote: "Corrections sent. Check again once the mediator has updated the agreement.",
  signingPhone: "Mobile for the signing code", myAgentDetails: "Your own details (as agent)",
  myCopy: "Download my copy", copyKeep: "Keep this link: you can download your copy for {days} days after the session:",
  wetInk: "Signing on paper (no e-signatures for marriage, adoption or inheritance)", wetInkIntro: "Print the agreement; the parties and the mediator sign it on paper and the committee seals it; then upload the scan to archive it.",
  wetInkPrint: "Print the agreement (PDF)", wetInkScan: "Scan of the signed copy (PDF, JPG or PNG)", wetInkUpload: "Upload and archive",
  wetInkArchived: "Scan archived, SHA-256: {sha}",
  copyCopied: "Link copied", copyLinkBtn: "Copy the link", sendCopy: "Send a copy", sendSms: "Text a download link",
  sendEmail: "E-mail the PDF", sentTo: "Sent to {to}", copyTitle: "My mediation documents", copyIntro: "The sealed documents you keep as a party.",
  copyNone: "No document to download yet.", copyNoLink: "This link is incomplete or no longer valid. Ask the mediation committee.",
  availableUntil: "Available until {date}", download: "Download PDF", copyDownloaded: "Downloaded",  recordFromTranscript: "Draft the record from the transcript", recordTitle: "Edit the mediation record", recordCreated: "A record was drafted from the session's joint transcript (no caucus content).",
  recordSubject: "Matter", recordPlace: "Place", recordRights: "The parties were told their rights and duties and said they understood",
  recordStatements: "Statements (the joint transcript by speaker)", recordSpeaker: "Speaker", recordText: "Text",
  recordReached: "Agreement reached", recordOutcome: "Outcome", recordPhones: "Mobiles for the signing codes",
  recordRecorder: "Recorder",
  recordRecorderMode: "Recorder (the office's choice)", recordRecorderClerk: "{name} (clerk, present, signs)",
  recordRecorderHint: "A clerk in the room signs as recorder; without one the recorder's name is printed and the parties and the mediator sign.",
  verifyId: "Verification number", verifyHint: "Anyone can open this link, or type the number on the verify page, to check that the document is authentic and unchanged.",
  docs: "This session's documents", kind_agreement: "Mediation agreement", kind_record: "Mediation record", kind_oral_register: "Oral agreement register",
  docSealed: "Sealed", docDraft: "Draft v{n}", docCaucus: "Caucus",
};

export function hasKey(k: string): k is TKey { return Object.prototype.hasOwnProperty.call(zh, k); }

export function ta(key: TKey, vars: Record<string, string | number> = {}): string {
  let s: string = (prefs.lang === "en" ? en : zh)[key] ?? zh[key];
  for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

export const MATTERS = ["neighbourhood", "property_management", "tort", "contract", "debt", "labour",
  "medical", "family", "marriage", "adoption", "inheritance", "other"] as const;
const MATTER_ZH: Record<string, string> = { neighbourhood: "邻里纠纷", property_management: "物业纠纷", tort: "损害赔偿纠纷",
  contract: "合同纠纷", debt: "债务纠纷", labour: "劳动争议", medical: "医疗纠纷", family: "家庭纠纷", marriage: "婚姻纠纷",
  adoption: "收养纠纷", inheritance: "继承纠纷", other: "其他纠纷" };
const MATTER_EN: Record<string, string> = { neighbourhood: "Neighbourhood", property_management: "Property management",
  tort: "Damages", contract: "Contract", debt: "Debt", labour: "Labour", medical: "Medical", family: "Family",
  marriage: "Marriage (signed on paper)", adoption: "Adoption (signed on paper)", inheritance: "Inheritance (signed on paper)", other: "Other" };
export function matterName(m: string): string { return (prefs.lang === "en" ? MATTER_EN : MATTER_ZH)[m] ?? m; }
