// exhibit-kiosk's screens driven by touch, as an officer would, against real exhibitd,
// exhibit-phonesim on the emulated USB bus and the real tus server (harness: see
// kiosk_harness.hpp). Each test function starts its own world and UI, and saves a screenshot
// of every screen it passes (build/tests/kiosk-shots/<test>/, or $EXHIBIT_KIOSK_SHOTS).
import QtQuick
import QtTest
import "qrc:/exhibit/qml"

Item {
    id: top
    width: 1920
    height: 1080

    Component {
        id: uiComponent
        KioskUi {}
    }

    TestCase {
        id: tc
        name: "Kiosk"
        when: windowShown
        property var ui: null
        property string test: ""
        property string lastTap: ""  // the objectName of the last item tap() touched

        // The video of the generated phone: a stall there keeps a copy running.
        readonly property string stallScenario: JSON.stringify({ rules: [
            { path: "/sdcard/DCIM/Camera/VID_20240704_181200.mp4", action: "stall_after", bytes: 262144 }
        ] })

        function cleanup() {
            harness.stop(test)
        }

        // --- helpers -----------------------------------------------------------------------
        function begin(testName, options, w, h) {
            test = testName
            verify(harness.start(options || {}), "the world did not start: " + harness.problem)
            ui = createTemporaryObject(uiComponent, top, { width: w || 1920, height: h || 1080 })
            verify(ui !== null)
            tryCompare(kiosk.link, "online", true, 15000, "the kiosk did not find exhibitd")
            compare(kiosk.screen, "ready")
            tryVerify(function() { return !find("status_free").text.endsWith(": -") }, 10000,
                      "the status strip stayed empty")
        }
        // What the officer would see, for a failure message.
        function seen() {
            var m = find("kioskMessage")
            return "screen \"" + kiosk.screen + "\", message \"" + (m ? m.text : "") + "\", session \""
                   + kiosk.session.state + "\" error \"" + kiosk.session.error + "\""
        }
        // tryVerify, whose failure says what was on screen when the time ran out.
        function waitFor(condition, timeout, what) {
            var deadline = Date.now() + timeout
            while (!condition()) {
                if (Date.now() > deadline)
                    fail(what + ": " + seen())
                wait(50)
            }
        }
        function find(name) {
            return findChild(ui, name)
        }
        function waitItem(name, timeout) {
            var deadline = Date.now() + (timeout || 10000)
            for (;;) {
                var item = find(name)
                if (item !== null && item.visible)
                    return item
                if (Date.now() > deadline)
                    break
                wait(50)
            }
            // Say what was on screen instead: the failure is read from a CI log.
            shot("no-" + name)
            fail("no visible " + name + " on screen \"" + kiosk.screen + "\" ("
                 + (find(name) === null ? "absent" : "hidden") + "; session "
                 + kiosk.session.state + (kiosk.session.finished ? ", finished" : "") + ")")
        }
        function tap(name) {
            var item = waitItem(name)
            lastTap = name
            var x = item.width / 2, y = item.height / 2
            // A finger rests on the glass for a moment: press, a short pause, release.
            var finger = touchEvent(item)
            finger.press(0, item, x, y).commit()
            wait(40)
            finger.release(0, item, x, y).commit()
        }
        function shot(name) {
            wait(250)  // let the last change (and the pictures) reach the scene graph
            grabImage(ui).save(harness.shotPath(test, name))
        }
        function screen(s, timeout) {
            tryCompare(kiosk, "screen", s, timeout || 15000, "screen")
        }
        // Taps a text field (the on-screen keyboard opens) and types into it.
        function typeInto(name, text, shotName) {
            var field = waitItem(name)
            // As an officer would: tap again when the first tap did not take (the first tap
            // after the window appears can go to the window's activation). Up to 3 s each: on
            // a loaded machine focus and the keyboard come late, and a second tap made while
            // the keyboard slides in lands on whatever the screen moved under it.
            for (var t = 0; t < 3 && !field.activeFocus; ++t) {
                tap(name)
                for (var w = 0; w < 60 && !field.activeFocus; ++w)
                    wait(50)
            }
            verify(field.activeFocus, name + " has no focus after 3 taps")
            for (var i = 0; i < text.length; ++i)
                keyClick(text[i])
            compare(field.text, text)
            if (shotName) shot(shotName)
            keyClick(Qt.Key_Return)   // Enter: the keyboard closes
            tryVerify(function() { return !field.activeFocus }, 3000, name + " kept the keyboard")
        }
        function keypad(digits) {
            for (var i = 0; i < digits.length; ++i)
                tap("key_" + digits[i])
        }

        function signIn(officer, pin, shots) {
            tap("signInButton")
            screen("signin")
            keypad(officer)
            tap("pinField")
            keypad(pin)
            compare(find("pinField_text").text, "●".repeat(pin.length), "the PIN is never shown")
            if (shots) shot("signin")
            tap("signInSubmit")
        }
        function fillCase(shots) {
            screen("case")
            if (shots) shot("case-empty")
            typeInto("caseField_input", "CR/2026/0042")
            typeInto("exhibitField_input", "JB/1", shots ? "case-keyboard" : "")
            tap("owner_victim")
            tap("nextButton")
            screen("phone")
        }
        function phoneStep(shots, needsAllow) {
            if (shots) shot("phone")
            if (needsAllow) {
                tryCompare(kiosk.devices, "chosenState", "needs_authorisation", 30000)
                if (shots) shot("phone-allow")
                compare(find("nextButton").enabled_, false)
                harness.phone("allow")
            }
            tryCompare(kiosk.devices, "chosenReady", true, 30000)
            if (shots) shot("phone-ready")
            tap("nextButton")
            screen("notice")
        }
        function noticeStep(shots, expectVersion) {
            tryVerify(function() { return kiosk.record.noticeVersion.length > 0 }, 10000, "no notice")
            if (expectVersion)
                compare(kiosk.record.noticeVersion, expectVersion)
            verify(find("noticeVersion").text.indexOf(kiosk.record.noticeVersion) >= 0)
            if (shots) shot("notice")
            typeInto("agreedByField", "Alex Smith")
            tap("agreeBox")
            if (shots) shot("notice-agreed")
            tap("nextButton")
            screen("scope")
        }
        function waitCounts() {
            tryVerify(function() { return !kiosk.scope.previewing && find("count_photos").text.indexOf("·") > 0 },
                      30000, "no preview counts")
        }
        // Receipt on screen == exhibitctl receipt for the same session. The seal (the SHA-256
        // of the extraction record) is there as soon as the copying has ended, as text and QR
        // code. `delivered`: the DFU store has received everything, so the signed manifest,
        // which states the same seal, exists too.
        function checkReceipt(delivered) {
            if (delivered)
                tryVerify(function() { return kiosk.receipt.manifestSha256.length === 64 }, 60000, "no manifest")
            else
                tryVerify(function() { return kiosk.receipt.loaded }, 30000, "no receipt")
            var r = harness.receipt(kiosk.session.path)
            verify(r.error === undefined, r.error)
            compare(find("receipt_case").text, r.case_reference)
            compare(find("receipt_exhibit").text, r.exhibit_reference)
            compare(find("receipt_officer").text, r.officer_id)
            compare(find("receipt_owner").text, ({ victim: "Victim", witness: "Witness", other: "Someone else" })[r.owner])
            compare(find("receipt_scope").text, r.scope)
            compare(find("receipt_state").text, r.state)
            compare(r.seal_sha256.length, 64, "no seal once the copying has ended")
            compare(find("receipt_sha256").text, r.seal_sha256)
            compare(find("receiptQr").text, r.seal_sha256)
            verify(find("receiptQr").visible)
            if (delivered)
                compare(r.manifest_sha256.length, 64, "no manifest after delivery")
            var total = find("receipt_total").text
            verify(total.indexOf(r.items + " items") === 0, total + " vs " + r.items)
            verify(total.indexOf("(" + r.bytes + " bytes)") > 0, total + " vs " + r.bytes)
            var seen = 0
            for (var key in r) {
                if (key.indexOf("items.") !== 0)
                    continue
                var c = key.substring(6)
                compare(find("receipt_items_" + c).text, String(r[key]), c)
                verify(find("receipt_bytes_" + c).text.indexOf("(" + r["bytes." + c] + " bytes)") > 0, c)
                ++seen
            }
            verify(seen > 0, "the receipt lists no category")
            return r
        }

        // --- the whole journey, at both screen sizes -------------------------------------------
        function journey(testName, w, h) {
            begin(testName, {}, w, h)
            shot("ready")
            signIn("4711", harness.officerPin("4711"), true)
            fillCase(true)
            phoneStep(true, true)
            noticeStep(true, "DPN-TEST-1")
            waitCounts()
            // Nothing here touches the urgent box: should it become ticked, say during which tap
            // (a receipt once read "Sending now" where "tonight" was expected).
            var urgentDuring = ""
            kiosk.scope.changed.connect(function() {
                if (kiosk.scope.urgent && urgentDuring === "") urgentDuring = lastTap
            })
            tap("category_photos")
            tap("category_videos")
            tap("category_messages")
            typeInto("numberField", "+44 7700 900123")   // Enter adds it
            compare(kiosk.scope.numbers.length, 1)
            tap("fromButton")
            waitItem("datePicker")
            for (var i = 0; i < 6; ++i) tap("picker_year_down")
            shot("scope-date-picker")
            tap("picker_done")
            verify(kiosk.scope.from.length === 10)
            waitCounts()
            verify(find("scopeSummary").text.indexOf("nothing else is copied") > 0, find("scopeSummary").text)
            shot("scope")
            verify(!kiosk.scope.urgent, "the urgent box became ticked during tap(\"" + urgentDuring + "\")")
            tap("nextButton")
            waitFor(function() { return kiosk.screen === "copying" || kiosk.screen === "receipt" }, 30000,
                    "the copy did not start")
            if (kiosk.screen === "copying") shot("copying")
            screen("receipt", 120000)
            var r = checkReceipt()
            compare(kiosk.receipt.values.priority, "normal", "the session's lane")
            compare(r.officer_id, "4711", "the signed-in officer is recorded")
            compare(r.notice_version, "DPN-TEST-1")
            compare(r.agreed_by, "Alex Smith")
            verify(find("receipt_delivery").text.indexOf("tonight") > 0, find("receipt_delivery").text)
            shot("receipt")
            tap("sendNowButton")
            tryVerify(function() { return kiosk.receipt.delivered }, 180000, "not delivered")
            verify(find("receipt_delivery").text.indexOf("Delivered") === 0)
            compare(checkReceipt(true).seal_sha256, r.seal_sha256, "the seal changed with the delivery")
            var v = harness.verifyDfu()
            compare(v.status, 0, v.output)
            tap("documentsButton")
            tryVerify(function() { return find("receipt_documents").text.indexOf(".pdf") > 0 }, 30000)
            var docs = find("receipt_documents").text.match(/\/\S+\.pdf/g)
            compare(docs.length, 2, find("receipt_documents").text)
            verify(harness.fileExists(docs[0]) && harness.fileExists(docs[1]))
            shot("receipt-delivered")
            compare(harness.receipt(kiosk.session.path).upload_state.indexOf("delivered"), 0)
            tap("finishButton")
            screen("ready")
            compare(kiosk.officer.signedIn, false)
            shot("ready-after-finish")
            console.log("kiosk peak RSS after the whole flow: " + (harness.peakRssKib() / 1024).toFixed(1) + " MiB")
        }

        function test_journey_1920x1080() {
            journey("journey-1920x1080", 1920, 1080)
        }

        function test_journey_1280x800() {
            journey("journey-1280x800", 1280, 800)
        }

        // --- wrong PIN and lock-out ----------------------------------------------------------
        // A phone with USB debugging off: over MTP it gives files only, and the kiosk offers
        // only those, says why, asks for no numbers, and copies and delivers what was chosen.
        function test_mtp_phone_gives_files_only() {
            begin("mtp-files-only", { interfaces: "mtp", mtp_locked: true })
            signIn("4711", harness.officerPin("4711"))
            fillCase()
            // Locked, or only charging: no storage. The screen says what to do.
            tryCompare(kiosk.devices, "chosenState", "locked", 30000)
            compare(find("phoneInstruction").text,
                    "Ask the owner to unlock the phone and choose File transfer in its USB notification.")
            compare(find("nextButton").enabled_, false)
            shot("phone-mtp-locked")
            harness.phone("unlock")
            phoneStep(false, false)
            noticeStep()
            waitCounts()
            var note = waitItem("offerNoteText")
            verify(note.text.indexOf("cannot be copied from this phone") > 0, note.text)
            verify(note.text.indexOf("USB debugging") > 0, note.text)
            var offered = ["photos", "videos", "audio", "documents"]
            for (var i = 0; i < offered.length; ++i)
                verify(find("category_" + offered[i]) !== null && find("category_" + offered[i]).visible,
                       offered[i] + " is offered")
            var refused = ["messages", "call_log", "contacts", "apps", "device_info"]
            for (var j = 0; j < refused.length; ++j)
                verify(find("category_" + refused[j]) === null || !find("category_" + refused[j]).visible,
                       refused[j] + " is not offered")
            verify(!find("numberField").visible, "no numbers are asked for a files-only phone")
            shot("scope-files-only")
            tap("category_photos")
            tap("category_videos")
            waitCounts()
            tap("nextButton")
            waitFor(function() { return kiosk.screen === "copying" || kiosk.screen === "receipt" }, 30000,
                    "the copy did not start")
            screen("receipt", 120000)
            var r = checkReceipt()
            compare(r.state, "completed")
            verify(r["items.photos"] > 0, "photos were copied")
            verify(r["items.messages"] === undefined, "no messages from an MTP phone")
            shot("receipt-files-only")
            tap("sendNowButton")
            tryVerify(function() { return kiosk.receipt.delivered }, 180000, "not delivered")
            var v = harness.verifyDfu()
            compare(v.status, 0, v.output)
            tap("finishButton")
            screen("ready")
        }

        // A witness brings a USB stick with a CCTV export: found through udev, read without
        // mounting; the officer is offered a stick's choices, and the export arrives whole.
        function test_stick_gives_its_cctv_export_whole() {
            begin("stick-cctv-export", { stick: true, auth: "none" })
            signIn("4711", harness.officerPin("4711"))
            fillCase()
            tryCompare(kiosk.devices, "chosenReady", true, 30000)
            compare(find("phoneInstruction").text,
                    "The USB stick or memory card is ready. It is read without changing anything on it. Tap Next.")
            shot("phone-stick")
            phoneStep(false, false)
            noticeStep()
            waitCounts()
            var note = waitItem("offerNoteText")
            verify(note.text.indexOf("A USB stick or memory card holds files only") === 0, note.text)
            verify(note.text.indexOf("cannot be copied from this phone") < 0, note.text)
            var offered = ["photos", "videos", "audio", "documents", "cctv_export", "disk_image"]
            for (var i = 0; i < offered.length; ++i)
                verify(find("category_" + offered[i]) !== null && find("category_" + offered[i]).visible,
                       offered[i] + " is offered")
            var refused = ["messages", "call_log", "contacts", "apps", "device_info"]
            for (var j = 0; j < refused.length; ++j)
                verify(find("category_" + refused[j]) === null || !find("category_" + refused[j]).visible,
                       refused[j] + " is not offered")
            verify(!find("numberField").visible, "no numbers are asked for a stick")
            tryVerify(function() { return find("count_cctv_export").text.indexOf("5 ·") === 0 }, 30000,
                      "the export's five files are counted: " + find("count_cctv_export").text)
            shot("scope-stick")
            tap("category_cctv_export")
            tap("category_photos")
            waitCounts()
            tap("nextButton")
            waitFor(function() { return kiosk.screen === "copying" || kiosk.screen === "receipt" }, 30000,
                    "the copy did not start")
            screen("receipt", 120000)
            var r = checkReceipt()
            compare(r.state, "completed")
            compare(r["items.cctv_export"], 5, "the export is taken whole: footage, index, player, readme")
            verify(r["items.photos"] > 0, "photos were copied")
            shot("receipt-stick")
            tap("sendNowButton")
            tryVerify(function() { return kiosk.receipt.delivered }, 180000, "not delivered")
            var v = harness.verifyDfu()
            compare(v.status, 0, v.output)
            tap("finishButton")
            screen("ready")
        }

        // An iPhone, locked when plugged in: the kiosk asks for it to be unlocked, then for
        // Trust on "Trust This Computer?", says what to do when Don't Trust was tapped, and
        // once trusted offers the camera roll only (over USB an iPhone gives nothing else).
        function test_iphone_trust_then_camera_roll() {
            begin("iphone-camera-roll", { iphone: "locked" })
            signIn("4711", harness.officerPin("4711"))
            fillCase()
            tryCompare(kiosk.devices, "chosenState", "locked", 60000)
            compare(find("phoneInstruction").text, "Ask the owner to unlock the phone.")
            compare(find("nextButton").enabled_, false)
            shot("phone-iphone-locked")
            harness.phone("unlock")
            tryCompare(kiosk.devices, "chosenState", "needs_authorisation", 30000)
            waitFor(function() { return find("phoneInstruction").text.indexOf("tap Trust") > 0 }, 10000,
                    "no Trust instruction")
            compare(find("nextButton").enabled_, false)
            shot("phone-iphone-trust")
            harness.phone("deny")
            waitFor(function() { return find("phoneInstruction").text.indexOf("Don't Trust was tapped") === 0 },
                    30000, "Don't Trust was not explained")
            compare(find("nextButton").enabled_, false)
            shot("phone-iphone-refused")
            harness.phone("trust")
            phoneStep(false, false)
            noticeStep()
            waitCounts()
            var note = waitItem("offerNoteText")
            verify(note.text.indexOf("iPhone backup") > 0, note.text)
            var offered = ["photos", "videos"]
            for (var i = 0; i < offered.length; ++i)
                verify(find("category_" + offered[i]) !== null && find("category_" + offered[i]).visible,
                       offered[i] + " is offered")
            var refused = ["messages", "call_log", "contacts", "apps", "audio", "documents"]
            for (var j = 0; j < refused.length; ++j)
                verify(find("category_" + refused[j]) === null || !find("category_" + refused[j]).visible,
                       refused[j] + " is not offered")
            verify(!find("numberField").visible, "no numbers are asked for an iPhone's camera roll")
            shot("scope-camera-roll")
            tap("category_photos")
            tap("category_videos")
            waitCounts()
            tap("nextButton")
            waitFor(function() { return kiosk.screen === "copying" || kiosk.screen === "receipt" }, 30000,
                    "the copy did not start")
            screen("receipt", 120000)
            var r = checkReceipt()
            compare(r.state, "completed")
            verify(r["items.photos"] > 0, "photos were copied")
            verify(r["items.videos"] > 0, "videos were copied")
            verify(r["items.messages"] === undefined, "no messages from an iPhone")
            shot("receipt-camera-roll")
            tap("sendNowButton")
            tryVerify(function() { return kiosk.receipt.delivered }, 180000, "not delivered")
            var v = harness.verifyDfu()
            compare(v.status, 0, v.output)
            tap("finishButton")
            screen("ready")
        }

        function test_wrong_pin_locks_the_officer_id() {
            begin("wrong-pin", {})
            var locked = false
            for (var attempt = 1; attempt <= 6 && !locked; ++attempt) {
                if (kiosk.screen === "ready")
                    signIn("4711", "1111", attempt === 1)
                else {
                    tap("pinField")
                    keypad("1111")
                    tap("signInSubmit")
                }
                tryVerify(function() { return find("signInError").text.length > 0 }, 10000)
                compare(kiosk.officer.pinLength, 0, "the PIN is cleared after the call")
                compare(kiosk.officer.signedIn, false)
                var error = find("signInError").text
                verify(error.indexOf("org.exhibit") < 0, "a raw error name: " + error)
                locked = error.indexOf("is locked after") >= 0
                if (attempt === 1) {
                    verify(error.indexOf("not right") >= 0, error)
                    shot("wrong-pin")
                }
            }
            verify(locked, "no lock-out after 6 wrong PINs")
            verify(attempt - 1 >= 5, "locked before the fifth wrong PIN")
            shot("locked")
            // Locked even with the right PIN; another officer signs in.
            tap("pinField")
            keypad(harness.officerPin("4711"))
            tap("signInSubmit")
            tryVerify(function() { return find("signInError").text.indexOf("is locked after") >= 0 }, 10000)
            compare(kiosk.officer.signedIn, false)
            tap("signInCancel")
            screen("ready")
            signIn("5020", harness.officerPin("5020"), false)
            screen("case")
            compare(kiosk.officer.officerId, "5020")
        }

        // --- idle sign-out clears every field ----------------------------------------------------
        function test_idle_signs_out_and_clears() {
            begin("idle", {})
            signIn("4711", harness.officerPin("4711"), false)
            screen("case")
            typeInto("caseField_input", "CR/IDLE/1")
            typeInto("exhibitField_input", "EX/IDLE")
            tap("owner_witness")
            kiosk.idle.seconds = 2
            tap("nextButton")
            screen("phone")
            screen("ready", 10000)   // no touch for 2 s
            verify(find("kioskMessage").text.indexOf("without a touch") > 0, find("kioskMessage").text)
            compare(kiosk.officer.signedIn, false)
            shot("signed-out")
            compare(kiosk.record.caseReference, "")
            compare(kiosk.record.exhibitReference, "")
            compare(kiosk.record.owner, "")
            kiosk.idle.seconds = 180
            signIn("4711", harness.officerPin("4711"), false)
            screen("case")
            compare(find("caseField_input").text, "")
            compare(find("exhibitField_input").text, "")
            compare(find("owner_witness").checked, false)
            shot("case-cleared")
        }

        function toCopying(testName, options) {
            begin(testName, options)
            signIn("4711", harness.officerPin("4711"), false)
            fillCase(false)
            phoneStep(false, true)
            noticeStep(false)
            waitCounts()
            tap("category_photos")
            tap("category_videos")
            tap("nextButton")
            screen("copying", 30000)
            tryVerify(function() { return kiosk.session.currentItem.indexOf("VID_") >= 0 }, 60000,
                      "the copy did not reach the video")
        }

        // --- phone pulled out mid-copy -----------------------------------------------------------
        function test_phone_pulled_out_mid_copy() {
            toCopying("unplugged", { scenario: stallScenario })
            shot("copying")
            harness.phone("unplug")
            tryCompare(kiosk.session, "finished", true, 30000)
            compare(kiosk.session.state, "interrupted")
            var outcome = find("copyOutcome").text
            verify(outcome.indexOf("pulled out") >= 0, outcome)
            verify(outcome.indexOf("kept") >= 0, outcome)
            shot("copy-interrupted")
            tap("toReceiptButton")
            screen("receipt")
            var r = checkReceipt()
            compare(r.state, "interrupted")
            shot("receipt-interrupted")
        }

        // --- Cancel with a confirmation ------------------------------------------------------
        function test_cancel_copy() {
            toCopying("cancel", { scenario: stallScenario })
            tap("cancelButton")
            waitItem("cancelConfirm")
            shot("cancel-confirm")
            tap("confirmCancelNo")
            verify(!find("cancelConfirm").visible)
            compare(kiosk.session.finished, false, "No carries on")
            tap("cancelButton")
            tap("confirmCancelYes")
            tryCompare(kiosk.session, "finished", true, 60000)
            compare(kiosk.session.state, "cancelled")
            verify(find("copyOutcome").text.indexOf("cancelled") >= 0, find("copyOutcome").text)
            shot("cancelled")
            tap("toReceiptButton")
            screen("receipt")
            compare(checkReceipt().state, "cancelled")
        }

        // --- exhibitd killed and restarted mid-flow ------------------------------------------------
        function test_exhibitd_restart_mid_flow() {
            begin("restart", {})
            signIn("4711", harness.officerPin("4711"), false)
            fillCase(false)
            phoneStep(false, true)
            noticeStep(false)
            waitCounts()
            tap("category_photos")
            verify(harness.killDaemon(), "exhibitd was not killed")
            tryCompare(kiosk.link, "online", false, 10000)
            waitItem("restartingScreen")
            shot("restarting")
            verify(harness.releaseDaemon(), "exhibitd did not start again")
            tryCompare(kiosk.link, "online", true, 15000, "the kiosk did not reconnect by itself")
            screen("signin")
            verify(find("signInNotice").text.indexOf("restarted") >= 0)
            shot("sign-in-again")
            keypad("4711")
            tap("pinField")
            keypad(harness.officerPin("4711"))
            tap("signInSubmit")
            screen("phone")
            compare(kiosk.record.caseReference, "CR/2026/0042", "what was typed is kept")
            tryCompare(kiosk.devices, "chosenReady", true, 30000)
            tap("nextButton")
            screen("notice")
            tryVerify(function() { return kiosk.record.agreementValid }, 10000, "the agreement was lost")
            tap("nextButton")
            screen("scope")
            waitCounts()
            verify(kiosk.scope.anySelected, "the scope was lost")
            tap("nextButton")
            screen("receipt", 120000)
            compare(checkReceipt().state, "completed")
            shot("receipt")
        }

        // --- a new notice version reaches the manifest ----------------------------------------------
        function test_notice_version_change_reaches_manifest() {
            begin("notice-version", {})
            signIn("4711", harness.officerPin("4711"), false)
            fillCase(false)
            phoneStep(false, true)
            tryCompare(kiosk.record, "noticeVersion", "DPN-TEST-1", 10000)
            typeInto("agreedByField", "Alex Smith")
            tap("agreeBox")
            verify(harness.setNotice("DPN-TEST-2", ""), "exhibitd did not take the new notice")
            tap("backButton")
            screen("phone")
            tap("nextButton")
            screen("notice")
            tryCompare(kiosk.record, "noticeVersion", "DPN-TEST-2", 10000)
            compare(kiosk.record.agreed, false, "agreeing to version 1 is not agreeing to version 2")
            verify(find("noticeVersion").text.indexOf("DPN-TEST-2") >= 0)
            shot("notice-v2")
            tap("agreeBox")
            tap("nextButton")
            screen("scope")
            waitCounts()
            tap("category_photos")
            tap("nextButton")
            screen("receipt", 120000)
            var before = checkReceipt()
            compare(before.notice_version, "DPN-TEST-2")
            tap("sendNowButton")
            tryVerify(function() { return kiosk.receipt.delivered }, 180000, "not delivered")
            checkReceipt(true)
            var manifests = harness.dfuManifests()
            compare(manifests.length, 1)
            verify(manifests[0].indexOf('"extraction_sha256":"' + before.seal_sha256 + '"') >= 0,
                   "the signed manifest does not state the seal on the receipt")
            verify(manifests[0].indexOf("DPN-TEST-2") >= 0, "the manifest does not record the notice shown")
            verify(manifests[0].indexOf("DPN-TEST-1") < 0)
        }
    }
}
