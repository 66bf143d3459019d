// The event log in the page's language: the server records kinds such as
// "participant.joined"; a person reads "参加人加入" or "Participant joined".

import { prefs } from "./prefs";

const LABELS: Record<string, [zh: string, en: string]> = {
  "participant.joined": ["参加人加入", "Participant joined"],
  "participant.reconnected": ["参加人重新连接", "Participant reconnected"],
  "participant.left": ["参加人离开", "Participant left"],
  "participant.removed": ["参加人被移出", "Participant removed"],
  "participant.muted": ["被静音", "Muted"],
  "participant.unmuted": ["取消静音", "Unmuted"],
  "participant.shared_device": ["多人共用设备", "Device shared by several people"],
  "participant.voice_enrolled": ["共用设备录入声音", "Voice enrolled on a shared device"],
  "participant.audio_only": ["切换仅语音", "Audio only switched"],
  "share.granted": ["允许共享屏幕", "Screen sharing allowed"],
  "share.revoked": ["收回共享屏幕", "Screen sharing withdrawn"],
  "screen.started": ["开始共享屏幕", "Screen sharing started"],
  "screen.stopped": ["停止共享屏幕", "Screen sharing stopped"],
  "consent.recorded": ["已同意录音和转写", "Consent to recording recorded"],
  "recording.started": ["开始录音", "Recording switched on"],
  "recording.stopped": ["关闭录音", "Recording switched off"],
  "lobby.admitted": ["让其进入调解室", "Admitted from the waiting room"],
  "lobby.denied": ["拒绝进入", "Refused entry"],
  "lobby.sent_back": ["请回等候室", "Sent back to the waiting room"],
  "lobby.message": ["给等候室留言", "Message to the waiting room"],
  "caucus.created": ["开始单独谈话", "Caucus opened"],
  "caucus.moved": ["移到其他谈话", "Moved to another space"],
  "caucus.extended": ["延长单独谈话", "Caucus extended"],
  "interpreter.attached": ["指定翻译对象", "Interpreter attached"],
  "caucus.ended": ["结束单独谈话", "Caucus ended"],
  "chat": ["文字交流", "Chat"],
  "evidence.uploaded": ["上传证据", "Evidence uploaded"],
  "evidence.shown": ["展示证据", "Evidence shown"],
  "expert.called": ["呼叫专家", "Expert called"],
  "expert.seated": ["专家接听", "Expert accepted"],
  "expert.joined": ["专家加入", "Expert joined"],
  "expert.released": ["专家离开", "Expert released"],
  "document.draft_created": ["起草文书", "Draft created"],
  "document.draft_edited": ["修改文书", "Draft edited"],
  "document.comment": ["文书意见", "Comment on a draft"],
  "document.party_confirmed": ["当事人确认", "Party confirmed"],
  "document.signing_opened": ["开始签名", "Signing opened"],
  "document.code_sent": ["发送验证码", "Signing code sent"],
  "document.signed": ["签名", "Signed"],
  "document.sealed": ["签章生效", "Sealed"],
  "document.copy_sent": ["送达文书", "Copy sent"],
  "document.wet_ink_archived": ["归档纸质签名件", "Wet-ink copy archived"],
  "data.purged": ["数据已按期删除", "Data purged"],
  "session.ended": ["调解结束", "Session ended"],
};

/** The kind in words, in the page's language; an unknown kind is shown as it is. */
export function eventLabel(kind: string): string {
  const l = LABELS[kind];
  return l ? l[prefs.lang === "en" ? 1 : 0] : kind;
}

export const KNOWN_EVENT_KINDS = Object.keys(LABELS);
