// 6. Scope: the categories the phone can give, with live counts and sizes (and, when it
// cannot give them all, which ones not and why), a date range, and for messages and calls
// optionally only those with chosen numbers; a plain summary of what is copied.
import QtQuick
import QtQuick.Controls.Basic

Item {
    id: root
    objectName: "screen_scope"
    readonly property var scope: kiosk.scope
    property string picking: ""

    Grid {
        id: categories
        anchors { left: parent.left; top: parent.top }
        width: parent.width * 0.52
        columns: 3
        spacing: Theme.px(16)
        Repeater {
            model: root.scope
            delegate: Rectangle {
                objectName: "category_" + name
                width: (categories.width - 2 * categories.spacing) / 3
                height: Math.max(Theme.target, Theme.px(150))
                radius: Theme.radius
                color: selected ? Theme.primary : "#ffffff"
                border.width: Theme.px(4)
                border.color: Theme.primary
                Accessible.role: Accessible.CheckBox
                Accessible.name: label
                Accessible.checked: selected
                Column {
                    anchors.centerIn: parent
                    width: parent.width - Theme.px(20)
                    Text {
                        width: parent.width
                        horizontalAlignment: Text.AlignHCenter
                        font.family: Theme.family
                        font.pixelSize: Theme.fontBody
                        font.bold: true
                        color: selected ? Theme.primaryText : Theme.primary
                        elide: Text.ElideRight
                        text: (selected ? "✔ " : "") + label
                    }
                    Text {
                        objectName: "count_" + name
                        width: parent.width
                        horizontalAlignment: Text.AlignHCenter
                        font.family: Theme.family
                        font.pixelSize: Theme.fontSmall
                        color: selected ? Theme.primaryText : Theme.text
                        elide: Text.ElideRight
                        text: countText + (filtered ? " *" : "")
                    }
                }
                TapHandler { onTapped: { root.forceActiveFocus(); root.scope.toggle(index) } }
            }
        }
    }
    Rectangle {
        id: offerNote
        objectName: "offerNote"
        anchors { left: parent.left; right: categories.right; top: categories.bottom; topMargin: Theme.gap }
        visible: root.scope.offerNote.length > 0
        height: visible ? offerText.implicitHeight + Theme.px(30) : 0
        color: Theme.panel
        border.color: Theme.border
        border.width: Theme.px(3)
        radius: Theme.radius
        Text {
            id: offerText
            objectName: "offerNoteText"
            anchors { fill: parent; margins: Theme.px(15) }
            verticalAlignment: Text.AlignVCenter
            font.family: Theme.family
            font.pixelSize: Theme.fontSmall
            color: Theme.text
            wrapMode: Text.WordWrap
            text: root.scope.offerNote
        }
    }
    Text {
        id: summary
        objectName: "scopeSummary"
        anchors { left: parent.left; right: categories.right; top: offerNote.visible ? offerNote.bottom : categories.bottom; topMargin: Theme.gap }
        font.family: Theme.family
        font.pixelSize: Theme.fontBody
        font.bold: true
        color: Theme.text
        wrapMode: Text.WordWrap
        text: root.scope.summary
    }
    Text {
        id: legend
        anchors { left: parent.left; right: categories.right; top: summary.bottom; topMargin: Theme.px(10) }
        visible: root.scope.numbers.length > 0
        font.family: Theme.family
        font.pixelSize: Theme.fontSmall
        color: Theme.text
        wrapMode: Text.WordWrap
        text: qsTr("* counted only with the numbers on the right")
    }
    ErrorLine {
        anchors { left: parent.left; right: categories.right; top: legend.visible ? legend.bottom : summary.bottom; topMargin: Theme.px(12) }
        text: root.scope.previewError.length > 0 ? root.scope.previewError : kiosk.session.error
    }

    Flickable {
        id: side
        anchors { left: categories.right; leftMargin: Theme.gap * 1.5; right: parent.right; top: parent.top; bottom: nav.top; bottomMargin: Theme.gap }
        contentHeight: form.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds
        Column {
            id: form
            width: side.width
            spacing: Theme.px(20)
            Text {
                font.family: Theme.family; font.pixelSize: Theme.fontBody; font.bold: true; color: Theme.text
                text: qsTr("Dates (inclusive)")
            }
            Row {
                spacing: Theme.px(16)
                BigButton {
                    objectName: "fromButton"
                    width: (form.width - Theme.px(16)) / 2; implicitWidth: width
                    primary: false
                    fontSize: Theme.fontSmall
                    text: qsTr("From: %1").arg(root.scope.fromText)
                    onClicked: { root.picking = "from"; picker.title = qsTr("First day to copy"); picker.open(root.scope.from) }
                }
                BigButton {
                    objectName: "toButton"
                    width: (form.width - Theme.px(16)) / 2; implicitWidth: width
                    primary: false
                    fontSize: Theme.fontSmall
                    text: qsTr("To: %1").arg(root.scope.toText)
                    onClicked: { root.picking = "to"; picker.title = qsTr("Last day to copy"); picker.open(root.scope.to) }
                }
            }
            ErrorLine { width: parent.width; text: root.scope.rangeError }
            // Numbers limit messages and calls: asked for only when the phone can give them.
            Text {
                width: parent.width
                visible: root.scope.numbersOffered
                font.family: Theme.family; font.pixelSize: Theme.fontBody; font.bold: true; color: Theme.text
                wrapMode: Text.WordWrap
                text: qsTr("Messages and calls only with these numbers (optional)")
            }
            Row {
                visible: root.scope.numbersOffered
                spacing: Theme.px(16)
                TextField {
                    id: numberField
                    objectName: "numberField"
                    width: form.width - addButton.width - Theme.px(16)
                    height: Theme.target
                    font.family: Theme.family
                    font.pixelSize: Theme.fontLarge
                    color: Theme.text
                    inputMethodHints: Qt.ImhDialableCharactersOnly | Qt.ImhNoPredictiveText
                    background: Rectangle {
                        radius: Theme.radius
                        border.width: numberField.activeFocus ? Theme.px(6) : Theme.px(3)
                        border.color: numberField.activeFocus ? Theme.primary : Theme.border
                    }
                    onAccepted: { addButton.clicked(); Qt.inputMethod.hide(); focus = false }
                }
                BigButton {
                    id: addButton
                    objectName: "addNumberButton"
                    width: Theme.px(200); implicitWidth: width
                    primary: false
                    text: qsTr("Add")
                    onClicked: if (root.scope.addNumber(numberField.text)) numberField.text = ""
                }
            }
            ErrorLine { width: parent.width; text: root.scope.numberError }
            Flow {
                width: parent.width
                visible: root.scope.numbersOffered
                spacing: Theme.px(12)
                Repeater {
                    model: root.scope.numbers
                    delegate: BigButton {
                        objectName: "number_" + index
                        primary: false
                        fontSize: Theme.fontSmall
                        height: Math.max(48, Theme.px(80))
                        text: modelData + "  ✕"
                        onClicked: root.scope.removeNumber(index)
                    }
                }
            }
            Rectangle {
                objectName: "urgentBox"
                width: parent.width
                height: Math.max(Theme.target, urgentText.implicitHeight + Theme.px(30))
                radius: Theme.radius
                color: root.scope.urgent ? "#fde4e4" : "#ffffff"
                border.width: Theme.px(4)
                border.color: root.scope.urgent ? Theme.danger : Theme.border
                Text {
                    id: urgentText
                    anchors { fill: parent; margins: Theme.px(16) }
                    verticalAlignment: Text.AlignVCenter
                    font.family: Theme.family
                    font.pixelSize: Theme.fontSmall
                    font.bold: root.scope.urgent
                    color: Theme.text
                    wrapMode: Text.WordWrap
                    text: (root.scope.urgent ? "✔ " : "☐ ") + qsTr("Urgent: send to the DFU store as soon as it is copied")
                }
                TapHandler { onTapped: root.scope.urgent = !root.scope.urgent }
            }
        }
    }

    NavBar {
        id: nav
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        nextText: kiosk.session.starting ? qsTr("Starting…") : qsTr("Start copying")
        nextEnabled: root.scope.valid && !root.scope.previewing && !kiosk.session.starting
        onNext: { root.forceActiveFocus(); kiosk.startCopy() }
        onBack: kiosk.back()
    }

    DatePicker {
        id: picker
        objectName: "datePicker"
        anchors.fill: parent
        anchors.margins: -Theme.gap
        z: 10
        visible: false
        onPicked: function(day) {
            if (root.picking === "from") root.scope.setFrom(day)
            else root.scope.setTo(day)
        }
    }
}
