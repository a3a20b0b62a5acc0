// The whole kiosk UI: a header (step and officer), the current screen, a message line, the
// on-screen keyboard and the "kiosk is restarting" screen while exhibitd is away. The
// screens only present what the C++ models in `kiosk` hold.
import QtQuick
import QtQuick.VirtualKeyboard

Rectangle {
    id: ui
    color: Theme.background
    onWidthChanged: Theme.scale = Math.min(width / 1920, height / 1080)
    onHeightChanged: Theme.scale = Math.min(width / 1920, height / 1080)
    Component.onCompleted: Theme.scale = Math.min(width / 1920, height / 1080)

    readonly property var steps: ["case", "phone", "notice", "scope", "copying", "receipt"]
    readonly property var titles: ({
        ready: qsTr("Evidence kiosk"),
        signin: qsTr("Officer sign-in"),
        "case": qsTr("The case"),
        phone: qsTr("The phone"),
        notice: qsTr("Notice and agreement"),
        scope: qsTr("What to copy"),
        copying: qsTr("Copying"),
        receipt: qsTr("Receipt")
    })
    readonly property bool restarting: !kiosk.link.online

    Rectangle {
        id: header
        objectName: "header"
        anchors { left: parent.left; right: parent.right; top: parent.top }
        height: Theme.px(120)
        color: Theme.primary
        Text {
            anchors { left: parent.left; leftMargin: Theme.gap; verticalCenter: parent.verticalCenter }
            width: parent.width * 0.55
            elide: Text.ElideRight
            font.family: Theme.family
            font.pixelSize: Theme.fontTitle
            font.bold: true
            color: Theme.primaryText
            text: {
                var i = ui.steps.indexOf(kiosk.screen)
                var t = ui.titles[kiosk.screen] || ""
                return i >= 0 ? qsTr("Step %1 of %2: %3").arg(i + 1).arg(ui.steps.length).arg(t) : t
            }
        }
        Row {
            anchors { right: parent.right; rightMargin: Theme.gap; verticalCenter: parent.verticalCenter }
            spacing: Theme.gap
            visible: kiosk.officer.signedIn
            Text {
                anchors.verticalCenter: parent.verticalCenter
                font.family: Theme.family
                font.pixelSize: Theme.fontSmall
                color: Theme.primaryText
                text: kiosk.officer.officerName.length > 0
                      ? qsTr("Officer %1 (%2)").arg(kiosk.officer.officerId).arg(kiosk.officer.officerName)
                      : qsTr("Officer %1").arg(kiosk.officer.officerId)
            }
            BigButton {
                objectName: "signOutButton"
                primary: false
                height: Math.max(48, Theme.px(84))
                fontSize: Theme.fontSmall
                text: qsTr("Sign out")
                visible: kiosk.screen !== "copying"
                onClicked: kiosk.finish()
            }
        }
    }

    ErrorLine {
        id: message
        objectName: "kioskMessage"
        warning: true
        anchors { left: parent.left; right: parent.right; top: header.bottom; margins: Theme.px(16) }
        text: kiosk.message
    }

    Loader {
        id: screen
        objectName: "screenLoader"
        anchors {
            left: parent.left; right: parent.right
            top: message.visible ? message.bottom : header.bottom
            bottom: keyboard.active ? keyboard.top : parent.bottom
            margins: Theme.gap
        }
        source: {
            switch (kiosk.screen) {
            case "ready": return "ReadyScreen.qml"
            case "signin": return "SignInScreen.qml"
            case "case": return "CaseScreen.qml"
            case "phone": return "PhoneScreen.qml"
            case "notice": return "NoticeScreen.qml"
            case "scope": return "ScopeScreen.qml"
            case "copying": return "CopyingScreen.qml"
            case "receipt": return "ReceiptScreen.qml"
            }
            return ""
        }
    }

    InputPanel {
        id: keyboard
        objectName: "keyboard"
        z: 50
        width: Math.min(parent.width, Theme.px(1500))
        anchors.horizontalCenter: parent.horizontalCenter
        y: active ? parent.height - height : parent.height
        visible: active && !ui.restarting
    }

    RestartingScreen {
        anchors.fill: parent
        z: 100
        visible: ui.restarting
    }
}
