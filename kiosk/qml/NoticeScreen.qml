// 5. Notice and agreement: the force's notice served by exhibitd, large and scrollable; the
// owner agrees by typing their name and ticking, or the officer records another lawful
// basis with its reason.
import QtQuick
import QtQuick.Controls.Basic

Item {
    id: root
    objectName: "screen_notice"
    readonly property var record: kiosk.record

    Rectangle {
        id: noticeBox
        anchors { left: parent.left; top: parent.top; bottom: nav.top; bottomMargin: Theme.gap }
        width: parent.width * 0.55
        color: Theme.panel
        radius: Theme.radius
        border.color: Theme.border
        border.width: Theme.px(2)
        Text {
            id: versionLine
            objectName: "noticeVersion"
            anchors { left: parent.left; right: parent.right; top: parent.top; margins: Theme.px(20) }
            font.family: Theme.family
            font.pixelSize: Theme.fontSmall
            font.bold: true
            color: Theme.muted
            text: root.record.noticeVersion.length > 0 ? qsTr("Notice version %1").arg(root.record.noticeVersion)
                  : root.record.noticeLoading ? qsTr("Loading the notice…") : ""
        }
        Flickable {
            id: noticeFlick
            objectName: "noticeFlick"
            anchors { left: parent.left; right: parent.right; top: versionLine.bottom; bottom: parent.bottom; margins: Theme.px(20) }
            contentHeight: noticeText.implicitHeight
            clip: true
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar { width: Theme.px(24); policy: ScrollBar.AlwaysOn }
            Text {
                id: noticeText
                objectName: "noticeText"
                width: noticeFlick.width - Theme.px(40)
                textFormat: Text.MarkdownText
                font.family: Theme.family
                font.pixelSize: Theme.fontBody
                color: Theme.text
                wrapMode: Text.WordWrap
                text: root.record.noticeText
            }
        }
        ErrorLine {
            anchors { left: parent.left; right: parent.right; top: versionLine.bottom; margins: Theme.px(20) }
            text: root.record.noticeError
        }
    }

    Flickable {
        id: side
        anchors { left: noticeBox.right; leftMargin: Theme.gap; right: parent.right; top: parent.top; bottom: nav.top; bottomMargin: Theme.gap }
        contentHeight: form.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds
        Column {
            id: form
            width: side.width
            spacing: Theme.gap
            Row {
                spacing: Theme.px(16)
                Choice {
                    objectName: "basis_consent"
                    width: (form.width - Theme.px(16)) / 2
                    text: qsTr("Owner agrees")
                    checked: root.record.basis === "consent"
                    onClicked: root.record.basis = "consent"
                }
                Choice {
                    objectName: "basis_other"
                    width: (form.width - Theme.px(16)) / 2
                    text: qsTr("Other basis")
                    checked: root.record.basis === "other"
                    onClicked: root.record.basis = "other"
                }
            }
            Column {
                width: parent.width
                spacing: Theme.gap
                visible: root.record.basis === "consent"
                Body {
                    width: parent.width
                    text: qsTr("The owner reads the notice, types their name and ticks the box.")
                }
                Text {
                    font.family: Theme.family; font.pixelSize: Theme.fontBody; font.bold: true; color: Theme.text
                    text: qsTr("Owner's name")
                }
                TextField {
                    id: nameField
                    objectName: "agreedByField"
                    width: parent.width
                    height: Theme.target
                    font.family: Theme.family
                    font.pixelSize: Theme.fontLarge
                    color: Theme.text
                    inputMethodHints: Qt.ImhNoPredictiveText
                    text: root.record.agreedBy
                    onTextChanged: root.record.agreedBy = text
                    onAccepted: { Qt.inputMethod.hide(); focus = false }
                    background: Rectangle {
                        radius: Theme.radius
                        border.width: nameField.activeFocus ? Theme.px(6) : Theme.px(3)
                        border.color: nameField.activeFocus ? Theme.primary : Theme.border
                    }
                }
                Rectangle {
                    id: agreeBox
                    objectName: "agreeBox"
                    width: parent.width
                    height: Math.max(Theme.target, agreeText.implicitHeight + Theme.px(30))
                    radius: Theme.radius
                    color: root.record.agreed ? "#e3f1e4" : "#ffffff"
                    border.width: Theme.px(4)
                    border.color: root.record.agreed ? Theme.success : Theme.border
                    Rectangle {
                        id: tick
                        x: Theme.px(20)
                        anchors.verticalCenter: parent.verticalCenter
                        width: Theme.px(64); height: width
                        radius: Theme.px(8)
                        border.width: Theme.px(4)
                        border.color: Theme.text
                        color: root.record.agreed ? Theme.success : "#ffffff"
                        Text {
                            anchors.centerIn: parent
                            text: "✔"
                            visible: root.record.agreed
                            color: "#ffffff"
                            font.pixelSize: Theme.fontLarge
                        }
                    }
                    Text {
                        id: agreeText
                        anchors { left: tick.right; leftMargin: Theme.px(20); right: parent.right; rightMargin: Theme.px(16); verticalCenter: parent.verticalCenter }
                        font.family: Theme.family
                        font.pixelSize: Theme.fontSmall
                        color: Theme.text
                        wrapMode: Text.WordWrap
                        text: qsTr("I have read the notice (version %1). I agree that the police copy what is chosen on the next screen.").arg(root.record.noticeVersion)
                    }
                    TapHandler {
                        onTapped: { root.forceActiveFocus(); root.record.agreed = !root.record.agreed }
                    }
                }
                ErrorLine {
                    width: parent.width
                    text: root.record.showErrors || root.record.agreedBy.length > 0 ? root.record.agreedByError : ""
                }
            }
            Column {
                width: parent.width
                spacing: Theme.gap
                visible: root.record.basis === "other"
                Body {
                    width: parent.width
                    text: qsTr("Record the lawful basis for taking the data without the owner's agreement (for example a warrant and its reference).")
                }
                TextField {
                    id: reasonField
                    objectName: "basisReasonField"
                    width: parent.width
                    height: Theme.target
                    font.family: Theme.family
                    font.pixelSize: Theme.fontLarge
                    color: Theme.text
                    inputMethodHints: Qt.ImhNoPredictiveText
                    text: root.record.basisReason
                    onTextChanged: root.record.basisReason = text
                    onAccepted: { Qt.inputMethod.hide(); focus = false }
                    background: Rectangle {
                        radius: Theme.radius
                        border.width: reasonField.activeFocus ? Theme.px(6) : Theme.px(3)
                        border.color: reasonField.activeFocus ? Theme.primary : Theme.border
                    }
                }
                ErrorLine {
                    width: parent.width
                    text: root.record.showErrors || root.record.basisReason.length > 0 ? root.record.basisReasonError : ""
                }
            }
        }
    }
    NavBar {
        id: nav
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        onNext: { root.forceActiveFocus(); kiosk.next() }
        onBack: kiosk.back()
    }
}
