// 1. Ready: plug in the phone, the kiosk's status, and Sign in.
import QtQuick

Item {
    objectName: "screen_ready"
    Row {
        anchors { left: parent.left; right: parent.right; top: parent.top; bottom: strip.top; bottomMargin: Theme.gap }
        spacing: Theme.gap * 2
        Picture {
            width: parent.width * 0.3
            height: parent.height
            kind: "plug"
        }
        Column {
            width: parent.width * 0.65
            anchors.verticalCenter: parent.verticalCenter
            spacing: Theme.gap * 1.5
            Text {
                width: parent.width
                font.family: Theme.family
                font.pixelSize: Theme.fontHuge
                font.bold: true
                color: Theme.text
                wrapMode: Text.WordWrap
                text: qsTr("Plug in the phone")
            }
            Body {
                width: parent.width
                text: qsTr("Use the cable on the kiosk. Then sign in to record the case and copy only what the owner agrees to.")
            }
            BigButton {
                objectName: "signInButton"
                width: Math.min(parent.width, Theme.px(560))
                text: qsTr("Sign in")
                onClicked: kiosk.beginSignIn()
            }
        }
    }
    StatusStrip {
        id: strip
        objectName: "statusStrip"
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
    }
}
