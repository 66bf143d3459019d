"""The agreement a real office signs, in Chromium: one mediator and two parties, no clerk.

The mediator fills every field of the editor (a resident and a company represented by its
lawyer), the live preview shows it as printed and the ID check speaks up while typing;
each party checks what the draft says about them on a phone (the agent corrects their own
mobile, the mediator applies it); the codes go through the Aliyun SMS sender to a local
gateway that checks the signature, and are typed in; the parties sign, the mediator signs
last, the committee's seal follows. The sealed PDF's text holds every filled field and no
empty label, pdfsig calls it valid, and each party downloads their copy from their own
page, which names its verify number. Then, still with no clerk, the mediator drafts the
人民调解记录 from the transcript (the 记录人 line is the mediator's name), the panel lists
both documents, and the parties and the mediator sign the record and it is sealed.
Every new view is checked by axe-core."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Audit, new_page
from tests.e2e.test_mediation import draw_signature, join_by_link, login
from tests.signaling.harness import make_user, running_server
from tests.signaling.sms_gateway import LocalGateway, sender_settings, start_gateway

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice"),
    pytest.mark.skipif(shutil.which("pdfsig") is None, reason="needs poppler-utils"),
]

SEAL_TIMEOUT_MS = 180_000
EMPTY_LABEL = re.compile(r"[：:][ \t]*[，,；;。]")

# Everything the mediator types; each must come out in the sealed PDF.
A = {"name": "张三", "ethnicity": "汉族", "birth_date": "1968-03-14", "occupation": "退休职工",
     "id_number": "310105196803140013", "address": "上海市长宁区示例路100弄5号301室",
     "phone": "13800000001", "email": "zhangsan@example.cn"}
B = {"name": "示例物业管理有限公司", "id_number": "91310105MA1FL00004",
     "address": "上海市长宁区示例路200号", "legal_representative": "李四",
     "legal_representative_title": "总经理", "phone": "021-60000000"}
AGENT = {"name": "王五", "id_number": "11010519491231002X", "phone": "13800000002"}
AGENT_CONFIRMED_PHONE = "13900000002"
TEXT = {
    "committee": "长宁区北新泾街道人民调解委员会",
    "facts": "2026年10月，申请人住房因楼上公共水管破裂漏水，天花板及墙面受损。",
    "disputed_points.0": "漏水原因及维修责任",
    "disputed_points.1": "损失赔偿数额",
    "responsibility": "被申请人对公共水管维护不及时，承担主要责任。",
    "clauses.0.obligation": "支付房屋修复及财产损失赔偿款",
    "clauses.0.amount": "12000",
    "clauses.0.method": "银行转账至申请人指定账户",
    "clauses.0.place": "上海市长宁区",
    "clauses.1.obligation": "更换破损公共水管并检修楼道管线",
    "clauses.1.method": "派员上门施工",
    "clauses.1.place": "上海市长宁区示例路100弄5号",
    "other_terms.0": "本协议履行完毕后，双方就本纠纷再无其他争议。",
    "mediator.phone": "13800000003",
}


def ed(path: str) -> str:
    return "#ed-" + path.replace(".", "-")


async def fill(page: Any, path: str, value: str) -> None:
    await page.fill(ed(path), value)


async def wait_code(gw: LocalGateway, phone: str, count: int, timeout: float = 30.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        codes = gw.codes_to(phone)
        if len(codes) >= count:
            return codes[-1]
        import asyncio

        await asyncio.sleep(0.1)
    raise AssertionError(f"no code reached {phone}: {gw.received} {gw.refused}")


async def sign_on(page: Any, gw: LocalGateway, phone: str, audit: Audit, tag: str,
                  typed: str | None = None) -> None:
    form = page.locator(".sign-form")
    await expect(form).to_be_visible()
    before = len(gw.codes_to(phone))
    await form.get_by_role("button", name=re.compile("获取验证码|Get a code")).click()
    await expect(form.locator(".hint[role=status]")).to_contain_text(phone[-4:])
    await page.fill("#sig-code", await wait_code(gw, phone, before + 1))
    if typed:
        await page.fill("#sig-typed", typed)
    else:
        # In large text the pad may sit below the fold: a person scrolls to it first.
        await page.locator(".sigpad").scroll_into_view_if_needed()
        await draw_signature(page)
    await audit.check(page, f"signing-{tag}")
    await audit.shot(page, f"signing-{tag}")
    await page.click("#sign-submit")
    try:
        await expect(page.locator(".sign-form")).to_have_count(0)
    except AssertionError:
        await audit.shot(page, f"signing-failed-{tag}")
        raise AssertionError(await form.locator(".form-error").inner_text()) from None


async def test_one_mediator_and_two_parties_sign_an_agreement_with_every_field(
        browsers: tuple[Any, Any], artifacts: Path, tmp_path: Path) -> None:
    _, browser = browsers
    audit = Audit(artifacts)
    gw = await start_gateway("aliyun")
    db = f"sqlite+aiosqlite:///{tmp_path / 'tiaojie.db'}"
    try:
        async with running_server(db, tmp_path, **sender_settings("aliyun", gw)) as srv:
            await make_user(srv, "mediator", role="mediator")
            med = await new_page(browser, srv.url)
            await login(med, "mediator")
            await med.fill("#case-number", "(2026)长北调字第15号")
            await med.fill("#case-type", "物业纠纷")
            await med.fill("#case-summary", "楼上公共水管漏水致天花板受损。")
            await med.click("#case-create")
            await med.click("#session-create")
            await expect(med.locator("#board")).to_be_visible()
            for role, side, label in (("party", "A", "张三"), ("representative", "B", "王五")):
                await med.select_option("#inv-role", role)
                await med.select_option("#inv-side", side)
                await med.fill("#inv-label", label)
                await med.click("#invite-create")
                await expect(med.locator(f'.invite[data-side="{side}"]')).to_be_visible()
            urls = {side: await med.locator(f'.invite[data-side="{side}"] .invite-url')
                    .input_value() for side in ("A", "B")}

            # -- two parties join on phones; no clerk in this session -------------------------
            a = await new_page(browser, srv.url, phone=True)
            b = await new_page(browser, srv.url, phone=True)
            await join_by_link(a, urls["A"], "张三", audit, "phone-partyA")
            await join_by_link(b, urls["B"], "王五", audit, "phone-agentB")
            await expect(med.locator(".lobby-row")).to_have_count(2)
            for name in ("张三", "王五"):
                await med.locator(".lobby-row", has_text=name).get_by_role(
                    "button", name=f"让其进入 {name}").click()
            await expect(med.locator(".lobby-row")).to_have_count(0)

            # -- the mediator fills every field of the editor --------------------------------
            await med.click("#draft-editor-open")
            await expect(med.locator("#draft-editor")).to_be_visible()
            # Prefilled from the case's links: 张三 in person, 王五 as side B's agent.
            await expect(med.locator(ed("parties.0.name"))).to_have_value("张三")
            await expect(med.locator(ed("parties.1.agents.0.name"))).to_have_value("王五")
            await fill(med, "committee", TEXT["committee"])
            await med.select_option(ed("matter"), "property_management")
            await med.select_option(ed("parties.0.sex"), "male")
            for key in ("ethnicity", "birth_date", "occupation", "address", "phone", "email"):
                await fill(med, f"parties.0.{key}", A[key])
            # A wrong check digit is named while typing, in Chinese.
            await fill(med, "parties.0.id_number", "310105196803140012")
            await expect(med.locator("#ed-parties-0-id_number-err")).to_contain_text("校验位")
            await fill(med, "parties.0.id_number", A["id_number"])
            await expect(med.locator("#ed-parties-0-id_number-err")).to_be_empty()
            await med.select_option(ed("parties.1.kind"), "organisation")
            await fill(med, "parties.1.id_number", "91310105MA1FL00000")
            await expect(med.locator("#ed-parties-1-id_number-err")).to_contain_text("校验位")
            for key, value in B.items():
                await fill(med, f"parties.1.{key}", value)
            await med.select_option(ed("parties.1.agents.0.kind"), "lawyer")
            await med.select_option(ed("parties.1.agents.0.authority"), "special")
            await fill(med, "parties.1.agents.0.id_number", AGENT["id_number"])
            await fill(med, "parties.1.agents.0.phone", AGENT["phone"])
            await fill(med, "facts", TEXT["facts"])
            await fill(med, "disputed_points.0", TEXT["disputed_points.0"])
            await med.click("#ed-disputed_points-add")
            await fill(med, "disputed_points.1", TEXT["disputed_points.1"])
            await fill(med, "responsibility", TEXT["responsibility"])
            await med.select_option(ed("clauses.0.obligor"), "P2")
            await med.select_option(ed("clauses.0.obligee"), "P1")
            for key in ("obligation", "amount", "method", "place"):
                await fill(med, f"clauses.0.{key}", TEXT[f"clauses.0.{key}"])
            await fill(med, "clauses.0.deadline", "2026-12-31")
            await med.click("#ed-add-clause")
            await med.select_option(ed("clauses.1.obligor"), "P2")
            await med.select_option(ed("clauses.1.obligee"), "P1")
            for key in ("obligation", "method", "place"):
                await fill(med, f"clauses.1.{key}", TEXT[f"clauses.1.{key}"])
            await fill(med, "clauses.1.deadline", "2026-12-15")
            await med.click("#ed-other_terms-add")
            await fill(med, "other_terms.0", TEXT["other_terms.0"])
            await fill(med, "copies", "3")
            await fill(med, "signed_on", "2026-11-25")
            await fill(med, "mediator.phone", TEXT["mediator.phone"])
            # No clerk: the mediator records, as this office allows.
            await med.select_option(ed("recorder_mode"), "mediator")
            # The live preview prints it as the document will.
            preview = med.locator("#editor-preview")
            await expect(preview).to_contain_text("纠纷类型：物业纠纷")
            await expect(preview).to_contain_text("委托代理人：王五，律师，特别授权")
            await expect(preview).to_contain_text("履行期限：2026年12月15日前")
            await expect(preview).to_contain_text("法定代表人：李四，总经理")
            await expect(preview).to_contain_text("记录人：Mediator")
            await audit.check(med, "editor")
            await audit.shot(med, "mediator-editor")
            await med.click("#draft-save")
            await expect(med.locator("#draft-editor")).to_be_hidden()

            # -- each party checks what the draft says about them, on their phone ---------------
            await expect(a.locator(".confirm-card")).to_be_visible()
            await expect(a.locator(".confirm-card .printed")).to_contain_text("退休职工")
            await expect(a.locator("#cf-id-number")).to_have_value(A["id_number"])
            await audit.check(a, "confirm-phone-partyA")
            await audit.shot(a, "phone-partyA-confirms")
            await a.click("#confirm-ok")
            await expect(a.locator(".confirm-done")).to_be_visible()
            # The mediator sees each party's answer without opening anything.
            await expect(med.locator('.confirmations [data-party="P1"]')).to_contain_text("已确认")
            await expect(b.locator(".confirm-card")).to_contain_text("示例物业管理有限公司")
            await b.fill("#cf-agent-phone", AGENT_CONFIRMED_PHONE)
            await audit.check(b, "confirm-phone-agentB")
            await b.click("#confirm-fix")
            await expect(b.locator(".confirm-done.st-corrected")).to_be_visible()
            await expect(med.locator('.confirmations [data-party="P2"]')).to_contain_text("要求更正")
            await audit.check(med, "mediator-confirmations")
            # The mediator sees the correction and applies it.
            await med.click("#draft-editor-open")
            await expect(med.locator('[data-confirm="P2"]')).to_have_text("要求更正")
            await expect(med.locator('[data-confirm="P1"]')).to_have_text("已确认")
            await med.click('[data-apply="P2"]')
            await expect(med.locator(ed("parties.1.agents.0.phone"))).to_have_value(
                AGENT_CONFIRMED_PHONE)
            await med.click("#draft-save")
            await expect(b.locator(".confirm-done.st-confirmed")).to_be_visible()

            # -- signing: parties in any order, the mediator last ------------------------------
            await med.click("#signing-open")
            await sign_on(b, gw, AGENT_CONFIRMED_PHONE, audit, "phone-agentB", typed="王五")
            await sign_on(a, gw, A["phone"], audit, "phone-partyA")
            await sign_on(med, gw, TEXT["mediator.phone"], audit, "mediator", typed="Mediator")
            await expect(med.locator(".signers li", has_text="已签名")).to_have_count(3)

            # -- sealed: each party downloads their copy from their own page --------------------
            pdfs = {}
            for tag, page in (("A", a), ("B", b)):
                await expect(page.locator("#my-copy")).to_be_visible(timeout=SEAL_TIMEOUT_MS)
                await audit.check(page, f"copy-{tag}")
                async with page.expect_download() as info:
                    await page.click("#my-copy")
                download = await info.value
                pdfs[tag] = tmp_path / f"copy-{tag}.pdf"
                await download.save_as(pdfs[tag])
            await audit.shot(a, "phone-partyA-copy")
            # The copy names the number printed under its QR code, linked to /verify.
            verify_id = a.locator(".my-copy .verify-id")
            await expect(verify_id).to_contain_text(re.compile(r"验证编号 [0-9A-Z]{5}-[0-9A-Z]{5}"))
            await expect(verify_id.locator("a")).to_have_attribute(
                "href", re.compile(r"^/verify/[0-9A-Z]{10}$"))
            # English second, and large text for an elderly party.
            await a.get_by_role("button", name="大字模式").click()
            await a.get_by_role("button", name="Switch language to English").click()
            await expect(a.locator("#my-copy")).to_have_text("Download my copy")
            await audit.check(a, "copy-A-en-big")
            await audit.shot(a, "phone-partyA-copy-english-large")
            assert pdfs["A"].read_bytes() == pdfs["B"].read_bytes()

            # The mediator texts A a copy link too; it reaches the gateway with its template.
            await med.locator(".send-copies li[data-party=P1]").get_by_role(
                "button", name=re.compile("短信")).click()
            await expect(med.locator("#toast")).to_contain_text("*******0001")
            assert any(m.template == "SMS_0002" for m in gw.received)

            text = subprocess.run(["pdftotext", "-layout", str(pdfs["A"]), "-"],
                                  capture_output=True, text=True, check=True).stdout
            flat = re.sub(r"\s+", "", text)
            expected = [*A.values(), *B.values(), AGENT["name"], AGENT_CONFIRMED_PHONE,
                        *TEXT.values()]
            expected.remove(A["email"])  # an e-mail is never printed
            expected.remove(TEXT["mediator.phone"])  # nor the mediator's number
            expected.remove(A["birth_date"])
            expected.remove(TEXT["clauses.0.amount"])
            expected += ["1968年3月14日", "人民币12,000.00元", "男", "律师", "特别授权", "物业纠纷",
                         "本协议一式3份", "2026年12月31日前", "2026年12月15日前", "记录人：Mediator",
                         "2026年11月25日", "(2026)长北调字第15号"]
            missing = [v for v in expected
                       if re.sub(r"\s+", "", v.replace("310105196803140013",
                                                       "3101**********0013")
                                 .replace("91310105MA1FL00004", "9131**********0004")
                                 .replace("11010519491231002X", "1101**********002X"))
                       not in flat]
            assert not missing, (missing, text)
            assert "zhangsan@example.cn" not in text
            assert not EMPTY_LABEL.search(text), EMPTY_LABEL.findall(text)
            for bare in ("性别：，", "民族：，", "履行方式：；", "履行地点：；", "联系方式：，"):
                assert bare not in flat
            report = subprocess.run(["pdfsig", str(pdfs["A"])], capture_output=True, text=True,
                                    timeout=60, check=False)
            assert "Signature Validation: Signature is Valid." in report.stdout, report.stdout

            # -- /verify in a fresh browser context, no login: the party's copy is authentic ---
            v = await new_page(browser, srv.url, phone=True)
            await v.goto("/verify")
            await v.set_input_files("#file", str(pdfs["A"]))
            await v.get_by_role("button", name="核验文件").click()
            await expect(v.locator(".ok").first).to_contain_text("文书真实")
            await expect(v.get_by_role("heading", name="完成证明")).to_be_visible()
            await expect(v.locator("body")).not_to_contain_text("*******0001")
            await audit.check(v, "verify")
            await audit.csp_of(v, "verify")
            await v.context.close()

            # -- the record from the transcript, still no clerk: the mediator records ------------
            await med.get_by_role("button", name="从转写生成调解记录").click()
            await expect(med.locator("#record-editor")).to_be_visible()
            await expect(med.locator("#record-recorder-mode")).to_have_value("mediator")
            await med.check("#record-rights")
            await med.check("#record-reached")
            await med.fill("#record-outcome", "双方达成调解协议，另行制作人民调解协议书。")
            await audit.check(med, "record-editor")
            await med.click("#record-save")
            await expect(med.locator("#record-editor")).to_have_count(0)
            # The panel lists both documents: the new record is shown, the agreement a click away.
            docs = med.locator(".doc-list")
            await expect(docs.locator('[data-kind="record"]')).to_have_attribute("aria-current", "true")
            await docs.locator('[data-kind="agreement"]').click()
            await expect(med.locator(".agreement-doc")).to_contain_text("人民调解协议书")
            await docs.locator('[data-kind="record"]').click()
            await expect(med.locator(".agreement-doc")).to_contain_text("记录人：Mediator")
            await audit.check(med, "document-list")
            await audit.shot(med, "mediator-record")
            await med.click("#signing-open")
            await sign_on(a, gw, A["phone"], audit, "record-partyA")
            await sign_on(b, gw, AGENT_CONFIRMED_PHONE, audit, "record-agentB", typed="王五")
            await sign_on(med, gw, TEXT["mediator.phone"], audit, "record-mediator",
                          typed="Mediator")
            await expect(b.locator("#my-copy")).to_be_visible(timeout=SEAL_TIMEOUT_MS)
            async with b.expect_download() as info:
                await b.click("#my-copy")
            record_pdf = tmp_path / "record-B.pdf"
            await (await info.value).save_as(record_pdf)
            assert record_pdf.read_bytes() != pdfs["B"].read_bytes()
            text = subprocess.run(["pdftotext", "-layout", str(record_pdf), "-"],
                                  capture_output=True, text=True, check=True).stdout
            flat = re.sub(r"\s+", "", text)
            assert "人民调解记录" in flat and "记录人：Mediator" in flat, text
            assert "记录人（签名）" not in flat and "示例物业管理有限公司委托代理人：王五" in flat, text
            assert not EMPTY_LABEL.search(text), EMPTY_LABEL.findall(text)
            report = subprocess.run(["pdfsig", str(record_pdf)], capture_output=True, text=True,
                                    timeout=60, check=False)
            assert "Signature Validation: Signature is Valid." in report.stdout, report.stdout

            for p in (a, b, med):
                await audit.csp_of(p, "end")
            audit.save()
            for p in (a, b, med):
                await p.context.close()
            assert not audit.csp, audit.csp
            assert not audit.serious(), audit.serious()
    finally:
        await gw.close()
